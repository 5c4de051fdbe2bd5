// Types of live.js, for the TypeScript that imports it (its unit test); the page runs the JavaScript.
/** Every operation the page sends, by name. */
export const OPERATIONS: Record<string, string>;
