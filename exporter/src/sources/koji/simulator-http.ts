/**
 * The Koji simulator's HTTP answers (kojixmlrpc.py `application`): XML-RPC over POST /kojihub,
 * `405` with `Allow: POST` for any other method, `400` for a body that is not an XML-RPC call,
 * faults with HTTP 200 (1014 "database outage" while the database is down), and the injectable
 * faults of the other modes. Pure functions of the model.
 */
import { callNames, dispatch } from './simulator-methods.js';
import { HubFault } from './simulator-args.js';
import type { KojiModel } from './simulator-model.js';
import { decodeMethodCall, encodeFault, encodeMethodResponse, KOJI_FAULTS, type XmlRpcCall } from './xmlrpc.js';

/** Fault modes (`setMode`): besides `down` and `slow` (sim-http.ts), 'offline' answers every call fault 1014
 * "database outage"; 'html' an HTML error page with 200; 'malformed' truncated XML; 'error500' HTTP 500;
 * 'huge' a well-formed answer over 64 MiB. */
export type KojiMode = 'ok' | 'down' | 'offline' | 'html' | 'malformed' | 'slow' | 'error500' | 'huge';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** hub.conf MaxRequestLength default. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

const XML_TYPE = 'text/xml';
const text = (status: number, body: string, headers: Record<string, string> = {}): Reply => ({ status, headers: { 'content-type': 'text/plain', ...headers }, body: Buffer.from(body) });
const xml = (body: string): Reply => ({ status: 200, headers: { 'content-type': XML_TYPE }, body: Buffer.from(body) });
const fault = (code: number, message: string): Reply => xml(encodeFault({ code, message }));

const NOT_FOUND = '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body></html>\n';

/**
 * Answer one request; `body` is undefined when it was longer than MAX_REQUEST_BYTES. `calls` is
 * the method names the request held (the method, then each multiCall entry), when it parsed.
 */
export function answer(model: KojiModel, method: string, rawPath: string, body: Buffer | undefined, offline: boolean): { reply: Reply; calls?: string[] } {
  const path = rawPath.split('?')[0] ?? '';
  if (path !== '/kojihub' && path !== '/kojihub/') return { reply: { status: 404, headers: { 'content-type': 'text/html; charset=iso-8859-1' }, body: Buffer.from(NOT_FOUND) } };
  if (method !== 'POST') return { reply: text(405, 'Method Not Allowed\nThis is an XML-RPC server. Only POST requests are accepted.', { allow: 'POST' }) };
  if (!body) return { reply: fault(KOJI_FAULTS.GenericError, `Request too long (max ${MAX_REQUEST_BYTES} bytes)`) };
  let call: XmlRpcCall;
  try {
    call = decodeMethodCall(body.toString('utf8'));
  } catch (e) {
    return { reply: text(400, `Bad Request\n${e instanceof Error ? e.message : String(e)}`) };
  }
  const calls = callNames(call.methodName, call.params);
  if (offline) return { reply: fault(KOJI_FAULTS.ServerOffline, 'database outage'), calls };
  try {
    return { reply: xml(encodeMethodResponse(dispatch({ model, inMulticall: false }, call.methodName, call.params))), calls };
  } catch (e) {
    if (e instanceof HubFault) return { reply: fault(e.code, e.message), calls };
    return { reply: fault(1, `<class 'Exception'>: ${e instanceof Error ? e.message : String(e)}`), calls };
  }
}

const APACHE_503 = '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>Service Unavailable</title>\n</head><body>\n<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later.</p>\n</body></html>\n';
const APACHE_500 = '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>500 Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or misconfiguration and was unable to complete your request.</p>\n</body></html>\n';
/** Above the 64 MiB a client should refuse. */
export const HUGE_BYTES = 65 * 1024 * 1024;
let hugeBody: Buffer | undefined;

/** A well-formed methodResponse (an array of host structs) of HUGE_BYTES or more. */
function huge(): Buffer {
  if (!hugeBody) {
    const one = '<value><struct><member><name>arches</name><value><string>x86_64 i686</string></value></member><member><name>capacity</name><value><double>4.0</double></value></member><member><name>name</name><value><string>builder1.example.com</string></value></member></struct></value>\n';
    const head = "<?xml version='1.0'?>\n<methodResponse><params><param><value><array><data>\n";
    const tail = '</data></array></value></param></params></methodResponse>\n';
    hugeBody = Buffer.from(head + one.repeat(Math.ceil(HUGE_BYTES / one.length)) + tail);
  }
  return hugeBody;
}

/** The mode's distortion of a normal reply ('down', 'slow' and 'offline' are done elsewhere). */
export function faulty(reply: Reply, mode: KojiMode): Reply {
  switch (mode) {
    case 'html':
      return { status: 200, headers: { 'content-type': 'text/html; charset=iso-8859-1' }, body: Buffer.from(APACHE_503) };
    case 'error500':
      return { status: 500, headers: { 'content-type': 'text/html; charset=iso-8859-1' }, body: Buffer.from(APACHE_500) };
    case 'malformed':
      return { ...reply, body: reply.body.subarray(0, Math.max(1, Math.floor(reply.body.length / 2))) };
    case 'huge':
      return { status: 200, headers: { 'content-type': XML_TYPE }, body: huge() };
    default:
      return reply;
  }
}
