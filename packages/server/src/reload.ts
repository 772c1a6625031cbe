/** `--reload`: watching source files so the arbiter can restart its workers when one changes. */
import { watch, type FSWatcher } from 'node:fs';

/** Source-like files; logs, sockets and pid files written next to the app must not trigger a reload. */
const SOURCE = /\.(m?[jt]sx?|c[jt]s|json)$/;
const IGNORED_DIR = /(^|[/\\])(node_modules|\.[^/\\]+)([/\\]|$)/;

export function isWatchedSource(relativePath: string): boolean {
  return SOURCE.test(relativePath) && !IGNORED_DIR.test(relativePath);
}

/**
 * Calls `onChange` (debounced, once per burst of changes such as a compiler writing many
 * files) when a source file under `root` changes. Returns a function that stops watching.
 */
export function watchSources(root: string, onChange: (file: string) => void, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  let changed = '';
  const watcher: FSWatcher = watch(root, { recursive: true }, (_event, filename) => {
    if (!filename || !isWatchedSource(filename.toString())) return;
    changed = filename.toString();
    clearTimeout(timer);
    timer = setTimeout(() => onChange(changed), debounceMs);
  });
  watcher.unref();
  return () => {
    clearTimeout(timer);
    watcher.close();
  };
}
