/**
 * Looking at raw arguments before strict parsing (which needs the model's
 * flags, which need `--model` and `--plugin`): the values of one flag.
 * @module
 */

/** The values of a flag in raw arguments (`--plugin a.js`, `--plugin=b.js`), up to `--`. */
export function scanFlag(args: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') break;
    if (a === `--${name}` && args[i + 1] !== undefined) out.push(args[++i] as string);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}
