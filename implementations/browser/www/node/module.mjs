// Stand-in for `node:module`. The medooze shim registers a Node load hook so
// that old Node releases treat sframe/lib/*.js as ES modules; a browser always
// does (they are served as text/javascript and imported as modules), so there
// is nothing to register. Throwing takes the shim's documented fallback path.
export function register() {
  throw new Error('no module hooks in a browser worker (not needed: lib/*.js load as ES modules)');
}
export default { register };
