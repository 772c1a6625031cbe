import { builtinModules } from 'node:module';

/** npm's limit on a package name's length. */
const MAX_LENGTH = 214;
/** A lower-case, URL-safe name, optionally scoped, not starting with `.` or `_` (npm's rules for new packages). */
const NAME = /^(?:@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
const RESERVED = new Set(['node_modules', 'favicon.ico']);

/**
 * Why `name` cannot be a new npm package's name, or `undefined` when it can.
 * The rules are npm's: at most 214 characters, lower case, URL-safe, no leading dot or
 * underscore, not a Node.js built-in module name.
 */
export function packageNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty';
  if (name.length > MAX_LENGTH) return `it is longer than ${MAX_LENGTH} characters`;
  if (name !== name.toLowerCase()) return 'it contains capital letters';
  if (name.trim() !== name) return 'it has leading or trailing spaces';
  if (RESERVED.has(name)) return 'it is reserved';
  if (builtinModules.includes(name)) return 'it is the name of a Node.js built-in module';
  if (!NAME.test(name)) {
    return 'only lower-case letters, digits and - . _ ~ are allowed (optionally after an @scope/), and it may not start with . or _';
  }
  return undefined;
}
