/** Vite's `?url` imports: the emitted file's URL. */
declare module '*?url' {
  const url: string;
  export default url;
}
