/**
 * An interactive API reference (Swagger UI) for an OpenAPI document, served from the installed
 * `swagger-ui-dist` package: no CDN, works offline. The page loads its script, style sheet and icon
 * from the same server and nothing else, under a Content-Security-Policy that allows exactly that
 * (`script-src 'self'`: the bootstrap is a served file, not an inline script). The package's files
 * are read (with `node:fs`, loaded on the first request for them) once, then served from memory.
 */
import { keepLifespan, type Environ, type HeaderList, type TsgiApplication, type TsgiMiddleware, type TsgiResponse } from '@carafe/gateway';

export interface DocsUiOptions {
  /** Where the page is, relative to the application's mount point; default `/docs`. Its assets are below it. */
  path?: string;
  /** The OpenAPI document: a path on this application (`/openapi.json`, the default) or an absolute URL (allowed in `connect-src`). */
  spec?: string;
  /** The page's title; default `API reference`. */
  title?: string;
  /** Swagger UI settings (JSON values) over the defaults (`deepLinking: true`, `validatorUrl: null`, …). */
  config?: Record<string, unknown>;
}

interface Asset {
  body: Uint8Array;
  type: string;
  etag: string;
}

/** The files of swagger-ui-dist that the page uses, with their media types. */
const PACKAGE_FILES: Record<string, string> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE_CSS = 'html{box-sizing:border-box;overflow-y:scroll}*,*:before,*:after{box-sizing:inherit}body{margin:0;background:#fafafa}\n';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The Content-Security-Policy of the page: its own origin for scripts, styles, images and the document fetch; nothing else. */
export function docsCsp(spec: string): string {
  let connect = "'self'";
  if (/^https?:\/\//i.test(spec)) connect += ` ${new URL(spec).origin}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

async function loadPackage(): Promise<{ version: string; files: Map<string, Asset> }> {
  const [{ readFile }, { createRequire }, { dirname, join }] = await Promise.all([
    import('node:fs/promises'),
    import('node:module'),
    import('node:path'),
  ]);
  const require = createRequire(import.meta.url);
  let manifest: string;
  try {
    manifest = require.resolve('swagger-ui-dist/package.json');
  } catch (error) {
    throw new Error('docsUi(): the swagger-ui-dist package is not installed', { cause: error });
  }
  const dir = dirname(manifest);
  const version = (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
  const files = new Map<string, Asset>();
  await Promise.all(
    Object.entries(PACKAGE_FILES).map(async ([name, type]) => {
      const body = await readFile(join(dir, name));
      files.set(name, { body, type, etag: `"swagger-ui-dist@${version}/${name}"` });
    }),
  );
  return { version, files };
}

const encoder = new TextEncoder();

function asset(body: string, type: string, tag: string): Asset {
  return { body: encoder.encode(body), type, etag: `"carafe-docs/${tag}"` };
}

/**
 * Serves Swagger UI at `path` for the document at `spec`.
 *
 * @example app.use(docsUi({ path: '/docs', spec: '/openapi.json' }))
 */
export function docsUi(options: DocsUiOptions = {}): TsgiMiddleware {
  const path = `/${(options.path ?? '/docs').replace(/^\/+|\/+$/g, '')}`;
  const spec = options.spec ?? '/openapi.json';
  const title = options.title ?? 'API reference';
  const config = { deepLinking: true, validatorUrl: null, tryItOutEnabled: false, ...options.config };
  // The page finds the document's URL in a data attribute, so this script is the same for every mount point.
  const init = asset(
    `(function () {\n  var root = document.getElementById('swagger-ui');\n  var config = ${JSON.stringify(config)};\n` +
      `  config.url = root.getAttribute('data-spec');\n  config.dom_id = '#swagger-ui';\n` +
      `  config.presets = [SwaggerUIBundle.presets.apis];\n  config.layout = 'BaseLayout';\n  window.ui = SwaggerUIBundle(config);\n})();\n`,
    'text/javascript; charset=utf-8',
    `init-${hash(JSON.stringify(config))}`,
  );
  const css = asset(PAGE_CSS, 'text/css; charset=utf-8', 'page-css');
  const csp = docsCsp(spec);
  let pkg: Promise<{ version: string; files: Map<string, Asset> }> | undefined;

  const page = (environ: Environ): TsgiResponse => {
    const base = escapeHtml(environ.SCRIPT_NAME + path);
    const specUrl = escapeHtml(spec.startsWith('/') ? environ.SCRIPT_NAME + spec : spec);
    const html =
      `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
      `<title>${escapeHtml(title)}</title>\n<link rel="stylesheet" href="${base}/swagger-ui.css">\n<link rel="stylesheet" href="${base}/page.css">\n` +
      `<link rel="icon" type="image/png" href="${base}/favicon-32x32.png" sizes="32x32">\n</head>\n<body>\n` +
      `<div id="swagger-ui" data-spec="${specUrl}"></div>\n<script src="${base}/swagger-ui-bundle.js"></script>\n` +
      `<script src="${base}/init.js"></script>\n</body>\n</html>\n`;
    const body = encoder.encode(html);
    return {
      status: 200,
      headers: [
        ['Content-Type', 'text/html; charset=utf-8'],
        ['Content-Length', String(body.byteLength)],
        ['Content-Security-Policy', csp],
        ['Cache-Control', 'no-cache'],
      ],
      body: environ.REQUEST_METHOD === 'HEAD' ? [] : [body],
    };
  };

  const send = (environ: Environ, file: Asset): TsgiResponse => {
    const headers: HeaderList = [
      ['Content-Type', file.type],
      ['ETag', file.etag],
      ['Cache-Control', 'public, max-age=3600'],
    ];
    if (environ.HTTP_IF_NONE_MATCH === file.etag) return { status: 304, headers, body: [] };
    headers.push(['Content-Length', String(file.body.byteLength)]);
    return { status: 200, headers, body: environ.REQUEST_METHOD === 'HEAD' ? [] : [file.body] };
  };

  return (app: TsgiApplication) =>
    keepLifespan((environ: Environ) => {
      const requested = environ.PATH_INFO;
      if (requested !== path && !requested.startsWith(`${path}/`)) return app(environ);
      const method = environ.REQUEST_METHOD;
      if (method !== 'GET' && method !== 'HEAD') {
        return {
          status: 405,
          headers: [
            ['Allow', 'GET, HEAD'],
            ['Content-Length', '0'],
          ],
          body: [],
        };
      }
      if (requested === path) return page(environ);
      const name = requested.slice(path.length + 1);
      if (name === '') {
        const location = environ.SCRIPT_NAME + path;
        return {
          status: 308,
          headers: [
            ['Location', location],
            ['Content-Length', '0'],
          ],
          body: [],
        };
      }
      if (name === 'init.js') return send(environ, init);
      if (name === 'page.css') return send(environ, css);
      if (!(name in PACKAGE_FILES)) return app(environ);
      if (pkg === undefined) {
        pkg = loadPackage();
        // A failed read is tried again by the next request.
        pkg.catch(() => {
          pkg = undefined;
        });
      }
      return pkg.then((loaded) => send(environ, loaded.files.get(name)!));
    }, app);
}

/** A short, stable tag for a string (FNV-1a): the init script's ETag changes with its settings. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}
