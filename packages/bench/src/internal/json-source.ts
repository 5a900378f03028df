/**
 * Strict JSON with positions: parse errors and repeated keys with line and
 * column, and a locator from a JSON path (`['suite', 'esteps', 2, 'options']`)
 * to the line and column of that value in the text (`jsonc-parser`'s tree,
 * with comments and trailing commas disallowed).
 * @module
 */
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { emError, formatPath, type ErrorPath } from '@emlab/core';

/** A 1-based line and column (UTF-16 code units). @internal */
export interface TextLocation {
  readonly line: number;
  readonly column: number;
}

/** Parsed JSON text and where its values are. @internal */
export interface JsonSource {
  readonly value: unknown;
  /** Where the value at `path` (without the leading root name) starts; the nearest existing ancestor when absent. */
  locate(path: readonly (string | number)[]): TextLocation;
}

/** 1-based line and column of `offset` in `text`. @internal */
export function locationOf(text: string, offset: number): TextLocation {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

const PROBLEMS: Readonly<Record<string, string>> = {
  InvalidSymbol: 'an invalid symbol (JSON has no NaN, Infinity, comments or unquoted words)',
  InvalidNumberFormat: 'a malformed number',
  PropertyNameExpected: 'a property name was expected (a trailing comma, or a name without quotes?)',
  ValueExpected: 'a value was expected (a trailing comma, or a missing value?)',
  ColonExpected: 'a colon was expected',
  CommaExpected: 'a comma was expected',
  CloseBraceExpected: 'a closing brace } was expected',
  CloseBracketExpected: 'a closing bracket ] was expected',
  EndOfFileExpected: 'the document should end here (text after the top-level value)',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfNumber: 'a number is cut short',
  InvalidUnicode: 'an invalid \\u escape',
  InvalidEscapeCharacter: 'an invalid escape character',
  InvalidCharacter: 'an invalid character (a control character inside a string?)',
};

function repeatedKey(node: Node | undefined, path: (string | number)[]): { node: Node; path: (string | number)[] } | null {
  if (node === undefined) return null;
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const key = prop.children?.[0];
      if (key === undefined) continue;
      const name = String(key.value);
      if (seen.has(name)) return { node: key, path: [...path, name] };
      seen.add(name);
      const inner = repeatedKey(prop.children?.[1], [...path, name]);
      if (inner !== null) return inner;
    }
  } else if (node.type === 'array') {
    for (const [i, child] of (node.children ?? []).entries()) {
      const inner = repeatedKey(child, [...path, i]);
      if (inner !== null) return inner;
    }
  }
  return null;
}

/**
 * Parses strict JSON text.
 * @param label - how messages name the file (as the user gave it).
 * @param root - the path name of the document in errors (e.g. `'suite'`).
 * @param what - what the file is, for remedies (e.g. `'the suite file'`).
 * @throws EmError `PARSE_ERROR` with line and column for invalid JSON; `INVALID_ARGUMENT` for a repeated key.
 * @internal
 */
export function parseJsonSource(text: string, label: string, root: string, what: string): JsonSource {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  const tree = parseTree(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (first !== undefined || tree === undefined) {
    const at = locationOf(body, first?.offset ?? 0);
    const code = first === undefined ? 'ValueExpected' : printParseErrorCode(first.error);
    const problem = body.trim() === '' ? 'is empty' : `is not valid JSON at line ${at.line}, column ${at.column}: ${PROBLEMS[code] ?? code}`;
    throw emError('PARSE_ERROR', [label], body.slice(first?.offset ?? 0, (first?.offset ?? 0) + 20), problem, `fix ${what} at ${label}:${at.line}:${at.column} (strict JSON: double-quoted names, no comments, no trailing commas)`);
  }
  const dup = repeatedKey(tree, []);
  if (dup !== null) {
    const at = locationOf(body, dup.node.offset);
    throw emError('INVALID_ARGUMENT', [root, ...dup.path], dup.path.at(-1), `is given twice (${label}:${at.line}:${at.column}); JSON readers keep only one of them`, `give ${formatPath([root, ...dup.path])} once in ${what}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(body) as unknown;
  } catch (e) {
    throw emError('PARSE_ERROR', [label], body.slice(0, 20), `is not valid JSON (${(e as Error).message})`, `fix ${what}`, e);
  }
  return {
    value,
    locate(path: ErrorPath): TextLocation {
      for (let n = path.length; n >= 0; n--) {
        const node = findNodeAtLocation(tree, [...path.slice(0, n)]);
        if (node !== undefined) {
          // A property's value: point at its key, where people look.
          const key = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
          return locationOf(body, (key ?? node).offset);
        }
      }
      return { line: 1, column: 1 };
    },
  };
}
