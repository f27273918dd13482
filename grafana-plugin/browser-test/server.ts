/**
 * The test page's server, on loopback: the page (dist/page.js), the plugin's built files
 * (grafana-plugin/dist/), and Grafana's data proxy for the one datasource: requests to
 * `/api/datasources/proxy/uid/<uid>/api/...` and `.../-/...` go to the exporter's `/api/...` and
 * `/-/...` (the plugin.json routes), streamed both ways so the event stream stays live. The
 * exporter sends no CORS headers, so the browser must reach it through the page's origin, as it
 * reaches it through Grafana.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PAGE_DIR = fileURLToPath(new URL('./dist/', import.meta.url));
export const PLUGIN_DIST = fileURLToPath(new URL('../dist/', import.meta.url));
export const DATASOURCE_UID = 'buildscope-browser-test';
/** Grafana serves @grafana/ui's icons from public/build/img/icons/; the package ships them. */
const ICONS_DIR = fileURLToPath(new URL('../../node_modules/@grafana/ui/dist/public/img/icons/', import.meta.url));
/**
 * Grafana's web fonts (Inter, Roboto Mono) ship with Grafana, not with @grafana/ui: the page gets
 * a system font instead (Liberation Sans comes with Debian's chromium), so no font request fails.
 */
/** Grafana core ships its own spinner icon (the Icon component asks for it); the package does not. */
const SPINNER_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 2a10 10 0 1 0 10 10h-2a8 8 0 1 1-8-8z"/></svg>';
const FALLBACK_FONT = ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'].find((f) => existsSync(f));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>buildscope plugin: browser test</title>
<link rel="stylesheet" href="/page/page.css"></head>
<body><p id="status" data-state="loading">loading the plugin…</p><div id="root"></div>
<script src="/page/page.js"></script></body></html>`;

function sendFile(res: ServerResponse, root: string, rel: string): void {
  const file = normalize(join(root, rel));
  if (!file.startsWith(root.endsWith(sep) ? root : root + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${rel}`);
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  createReadStream(file).pipe(res);
}

function proxy(req: IncomingMessage, res: ServerResponse, exporter: URL, path: string): void {
  const headers = { ...req.headers, host: exporter.host };
  delete headers.origin;
  delete headers.referer;
  delete headers.cookie;
  const upstream = httpRequest({ host: exporter.hostname, port: exporter.port, method: req.method, path, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    res.flushHeaders();
    answer.pipe(res);
  });
  upstream.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: `data proxy: ${e.message}` }));
  });
  // The browser went away (an event stream unsubscribed): end the upstream request too.
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
}

export interface PageServer {
  url: string;
  /** Paths the proxy forwarded, in order (the test checks what the plugin asked for). */
  proxied: string[];
  close(): Promise<void>;
}

export async function startPageServer(exporterUrl: string): Promise<PageServer> {
  const exporter = new URL(exporterUrl);
  const proxyPrefix = `/api/datasources/proxy/uid/${DATASOURCE_UID}`;
  const proxied: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://page');
    if (url.pathname === '/' || url.pathname === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (url.pathname.startsWith('/page/')) {
      sendFile(res, PAGE_DIR, url.pathname.slice('/page/'.length));
    } else if (url.pathname === '/public/build/img/icons/unicons/spinner.svg') {
      res.writeHead(200, { 'content-type': 'image/svg+xml' }).end(SPINNER_SVG);
    } else if (url.pathname.startsWith('/public/build/img/icons/')) {
      sendFile(res, ICONS_DIR, url.pathname.slice('/public/build/img/icons/'.length));
    } else if (url.pathname.startsWith('/public/fonts/') && FALLBACK_FONT) {
      res.writeHead(200, { 'content-type': 'font/ttf', 'cache-control': 'no-store' });
      createReadStream(FALLBACK_FONT).pipe(res);
    } else if (url.pathname.startsWith('/plugin/')) {
      sendFile(res, PLUGIN_DIST, url.pathname.slice('/plugin/'.length));
    } else if (url.pathname.startsWith(`${proxyPrefix}/api/`) || url.pathname.startsWith(`${proxyPrefix}/-/`)) {
      const path = url.pathname.slice(proxyPrefix.length) + url.search;
      proxied.push(path);
      proxy(req, res, exporter, path);
    } else if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route for ${url.pathname}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    proxied,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
