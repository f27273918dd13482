/** Shared by the Koji simulator tests: a minimal XML-RPC client over undici, shape checks against the fixtures, boot/close. */
import { Agent, request } from 'undici';
import { expect } from 'vitest';
import { ManualClock } from '../../util/clock.js';
import { KojiSimulator, type KojiSimulatorOptions } from './simulator.js';
import { decodeMethodResponse, encodeMethodCall, isStruct, type XmlRpcFault, type XmlRpcStruct, type XmlRpcValue } from './xmlrpc.js';

export const FIXTURES = new URL('./fixtures/', import.meta.url);
export const T0 = Date.parse('2026-03-16T12:00:00Z');

interface Got {
  status: number;
  headers: Record<string, string>;
  raw: Buffer;
  text: string;
}

export async function post(base: string, body: string, opts: { method?: string; path?: string; dispatcher?: Agent } = {}): Promise<Got> {
  const method = opts.method ?? 'POST';
  const res = await request(`${base}${opts.path ?? '/kojihub'}`, { method: method as 'POST', ...(method === 'POST' ? { body } : {}), headers: { 'content-type': 'text/xml' }, ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}) });
  const raw = Buffer.from(await res.body.arrayBuffer());
  const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
  return { status: res.statusCode, headers, raw, text: raw.toString('utf8') };
}

export async function rpc(base: string, method: string, ...params: XmlRpcValue[]): Promise<{ value?: XmlRpcValue; fault?: XmlRpcFault; text: string }> {
  const got = await post(base, encodeMethodCall(method, params));
  expect([got.status, got.headers['content-type']]).toEqual([200, 'text/xml']);
  const r = decodeMethodResponse(got.text);
  return r.kind === 'result' ? { value: r.value, text: got.text } : { fault: r.fault, text: got.text };
}

export async function ok(base: string, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcValue> {
  const r = await rpc(base, method, ...params);
  if (r.fault) throw new Error(`${method}: fault ${r.fault.code} ${r.fault.message}`);
  return r.value ?? null;
}

export async function fault(base: string, method: string, ...params: XmlRpcValue[]): Promise<XmlRpcFault> {
  const r = await rpc(base, method, ...params);
  if (!r.fault) throw new Error(`${method}: expected a fault, got ${r.text.slice(0, 200)}`);
  return r.fault;
}

export const S = (v: XmlRpcValue | undefined): XmlRpcStruct => {
  if (!isStruct(v)) throw new Error(`not a struct: ${JSON.stringify(v)}`);
  return v;
};
export const L = (v: XmlRpcValue | undefined): XmlRpcValue[] => {
  if (!Array.isArray(v)) throw new Error(`not an array: ${JSON.stringify(v)}`);
  return v;
};
export const kind = (v: XmlRpcValue | undefined): string => (v === null || v === undefined ? 'nil' : Array.isArray(v) ? 'array' : isStruct(v) ? 'struct' : typeof v);

/** The field names (in order) and value kinds seen across every instance of a value; nil matches anything. */
export interface Shape {
  kinds: Set<string>;
  keys?: string[];
  fields: Map<string, Shape>;
  items?: Shape;
}
export function learn(v: XmlRpcValue, into?: Shape): Shape {
  const s = into ?? { kinds: new Set<string>(), fields: new Map<string, Shape>() };
  s.kinds.add(kind(v));
  if (Array.isArray(v)) for (const item of v) s.items = learn(item, s.items);
  else if (isStruct(v)) {
    s.keys ??= Object.keys(v);
    for (const [k, x] of Object.entries(v)) s.fields.set(k, learn(x, s.fields.get(k)));
  }
  return s;
}
export function expectShape(v: XmlRpcValue, s: Shape, path: string): void {
  const known = [...s.kinds].filter((k) => k !== 'nil');
  if (kind(v) !== 'nil' && known.length > 0) expect(known, `${path} kind`).toContain(kind(v));
  if (isStruct(v) && s.keys) {
    expect(Object.keys(v), `${path} keys`).toEqual(s.keys);
    for (const [k, x] of Object.entries(v)) expectShape(x, s.fields.get(k) as Shape, `${path}.${k}`);
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => expectShape(x, s.items as Shape, `${path}[${i}]`));
}

let sims: KojiSimulator[] = [];
/** Close every simulator boot() started (call from afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
}

/** A simulator on loopback with a manual clock at T0 (closed by closeAll); `tick` moves the hub's time on and steps it. */
export async function boot(opts: Partial<KojiSimulatorOptions> = {}): Promise<{ sim: KojiSimulator; clock: ManualClock; base: string; tick: (ms: number) => void }> {
  const clock = new ManualClock(T0);
  const sim = new KojiSimulator({ clock, ...opts });
  sims.push(sim);
  const tick = (ms: number): void => {
    clock.advance(ms);
    sim.step();
  };
  return { sim, clock, base: await sim.listen(), tick };
}

/** Drive build task `id` by hand to its buildArch stage; returns the buildArch task ids by arch. */
export async function toArchStage(sim: KojiSimulator, base: string, id: number): Promise<Record<string, number>> {
  sim.assignTask(id, 'builder1.example.com');
  sim.openTask(id);
  const [srpm] = L(await ok(base, 'listTasks', { parent: id }, { order: 'id' })).map((t) => S(t).id as number);
  if (srpm === undefined) throw new Error('no SRPM task');
  sim.assignTask(srpm, 'builder3.example.com');
  sim.openTask(srpm);
  sim.finishTask(srpm, 'CLOSED');
  const arch = L(await ok(base, 'listTasks', { parent: id, method: 'buildArch' }, { order: 'id' })).map(S);
  return Object.fromEntries(arch.map((t) => [t.arch as string, t.id as number]));
}
