export interface Snippet { readonly line: number; readonly lang: 'ts' | 'js'; readonly code: string }
export function extractSnippets(markdown: string): Snippet[];
export function readmeSnippets(readmePath: string): Snippet[];
export function toModule(snippet: Snippet): string;
