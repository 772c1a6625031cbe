/** The `carafe` process's exit codes (the worker boot and app load codes are Gunicorn's). */
export const ExitCode = {
  /** Clean shutdown. */
  OK: 0,
  /** An unexpected error in the arbiter (for example a socket that cannot be bound). */
  ERROR: 1,
  /** Bad command line, environment variable or config file. */
  USAGE: 2,
  /** A worker could not boot: lifespan startup failed, a hook threw, or it kept dying before serving. */
  WORKER_BOOT: 3,
  /** The application could not be loaded: module missing, import threw, export missing or not callable. */
  APP_LOAD: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
