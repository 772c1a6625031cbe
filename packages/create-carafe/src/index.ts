/**
 * create-carafe: what `npm create carafe@latest my-api` runs. It is `carafe new` from
 * @carafe/server under the name `npm create` looks for: the same options, templates and project,
 * whose Carafe dependencies are this release's versions.
 */
import { runNew } from '@carafe/server';

export { newProject, NewProjectError, type NewProject, type NewProjectRequest } from '@carafe/server';

/**
 * Runs create-carafe with its arguments (`DIR [--name NAME] [--mongo] [--force]`) and resolves to
 * the exit code: 0 when the project was written, 2 for a usage error or a refusal (a non-empty
 * directory without `--force`), 1 when writing failed.
 */
export function createCarafe(argv: readonly string[]): Promise<number> {
  return runNew([...argv], { command: 'create-carafe' });
}
