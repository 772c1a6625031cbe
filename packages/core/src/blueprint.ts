import { Scaffold } from './scaffold.js';

/** Options of a {@link Blueprint}. */
export interface BlueprintOptions {
  /** Prepended to every route path of the blueprint, e.g. `/users`. */
  urlPrefix?: string;
}

/**
 * A named group of routes, hooks and error handlers, registered on an app or nested in another
 * blueprint, under a URL prefix. Route names get the blueprint's name as prefix: `users.detail`.
 * Registering it more than once (with different `name`s) mounts it at several prefixes.
 */
export class Blueprint extends Scaffold {
  readonly name: string;
  readonly urlPrefix: string | undefined;

  constructor(name: string, options: BlueprintOptions = {}) {
    super();
    if (!name || name.includes('.')) throw new TypeError(`Blueprint name must be non-empty and without ".": ${JSON.stringify(name)}`);
    this.name = name;
    this.urlPrefix = options.urlPrefix;
  }
}
