/**
 * Hostile input to the XML-RPC decoder: whatever a broken or malicious hub (or a proxy in front of
 * it) answers, decoding either succeeds or throws XmlRpcFormatError (never a TypeError, RangeError or
 * stack overflow), does not expand or fetch entities, and finishes quickly. Covers DTD attacks,
 * deep nesting, truncation at every byte of real replies, non-XML bodies, malformed XML-RPC,
 * big values, and a seeded mutation fuzz over the recorded replies and requests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  MAX_VALUE_DEPTH,
  XmlRpcFormatError,
  asFault,
  decodeMethodCall,
  decodeMethodResponse,
  encodeMethodCall,
  encodeMethodResponse,
  multiCallResults,
  type XmlRpcResponse,
  type XmlRpcValue,
} from './xmlrpc.js';

const LOCAL_FIXTURES = new URL('./fixtures/', import.meta.url);
const SHARED_FIXTURES = new URL('../../../../../shared/fixtures/koji/', import.meta.url);
const FIXTURES = existsSync(new URL('getLastEvent.xml', LOCAL_FIXTURES)) ? LOCAL_FIXTURES : SHARED_FIXTURES;
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');
const FILES = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.xml'))
  .sort();
const REPLIES = FILES.filter((f) => !f.endsWith('.request.xml'));
const REQUESTS = FILES.filter((f) => f.endsWith('.request.xml'));

const wrap = (valueXml: string): string => `<?xml version='1.0'?>\n<methodResponse><params><param>${valueXml}</param></params></methodResponse>\n`;

type Outcome = { ok: true; value: XmlRpcResponse } | { ok: false; error: unknown };

function attempt(xml: string): Outcome {
  try {
    return { ok: true, value: decodeMethodResponse(xml) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The decoder refuses `xml` with an XmlRpcFormatError (and nothing else), optionally matching `message`. */
function expectRefused(xml: string, message?: RegExp): void {
  const out = attempt(xml);
  if (out.ok) throw new Error(`accepted: ${xml.slice(0, 200)}`);
  expect(out.error).toBeInstanceOf(XmlRpcFormatError);
  if (message) expect((out.error as Error).message).toMatch(message);
}

/** Describes an exception that is not an XmlRpcFormatError, or undefined when all is well. */
function unexpected(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof XmlRpcFormatError) return undefined;
    return e instanceof Error ? `${e.constructor.name}: ${e.message}` : `non-Error thrown: ${String(e)}`;
  }
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = fn();
  return { value, ms: performance.now() - start };
}

describe('DTDs and entities', () => {
  it('billion laughs is refused without expanding anything', () => {
    const laughs =
      `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n` +
      Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">\n`).join('') +
      `]>\n<methodResponse><params><param><value><string>&lol9;</string></value></param></params></methodResponse>`;
    const { ms } = timed(() => expectRefused(laughs, /DOCTYPE/));
    expect(ms).toBeLessThan(500);
  });

  it('an external entity (XXE) is refused and never read', () => {
    expectRefused(`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${wrap('<value><string>&xxe;</string></value>').replace(/^<\?xml[^>]*\?>\n/, '')}`, /DOCTYPE/);
    expectRefused(`<?xml version="1.0"?><!DOCTYPE methodResponse SYSTEM "http://127.0.0.1:1/evil.dtd"><methodResponse/>`, /DOCTYPE/);
    expectRefused(`<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><methodResponse/>`);
  });

  it('an undefined entity, or one named like an Object.prototype member, is refused', () => {
    expectRefused(wrap('<value><string>&nbsp;</string></value>'), /undefined entity/);
    for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) expectRefused(wrap(`<value>&${name};</value>`), /undefined entity/);
    expectRefused(wrap('<value>& </value>'));
    expectRefused(wrap('<value>&;</value>'));
    expectRefused(wrap('<value>&amp</value>'));
  });

  it('character references to characters XML forbids are refused (no RangeError)', () => {
    for (const ref of ['&#0;', '&#x1;', '&#xD800;', '&#xDFFF;', '&#xFFFE;', '&#xFFFF;', '&#x110000;', '&#99999999999999999999;', '&#x;', '&#-1;', '&#xG;']) expectRefused(wrap(`<value>${ref}</value>`));
  });
});

describe('deep nesting', () => {
  const N = 10_000;

  it(`${N} nested arrays are a clean error, not a stack overflow`, () => {
    const xml = wrap('<value><array><data>'.repeat(N) + '<value><int>1</int></value>' + '</data></array></value>'.repeat(N));
    const { ms } = timed(() => expectRefused(xml, /nested deeper/));
    expect(ms).toBeLessThan(1000);
  });

  it(`${N} nested structs, and ${N * 10} unclosed elements, are clean errors`, () => {
    expectRefused(wrap('<value><struct><member><name>a</name>'.repeat(N) + '<value/>' + '</member></struct></value>'.repeat(N)), /nested deeper/);
    expectRefused(wrap('<value><array><data>'.repeat(N * 10)), /nested deeper/);
    expectRefused('<a>'.repeat(N * 10), /nested deeper/);
  });

  it('nesting just past MAX_VALUE_DEPTH (within the XML depth limit) is refused by the value decoder', () => {
    const n = MAX_VALUE_DEPTH + 2;
    expectRefused(wrap('<value><array><data>'.repeat(n) + '</data></array></value>'.repeat(n)), /nested deeper/);
  });

  it(`encoding ${N} nested arrays is a clean error too`, () => {
    let v: XmlRpcValue = 1;
    for (let i = 0; i < N; i++) v = [v];
    expect(unexpected(() => encodeMethodResponse(v))).toBeUndefined();
    expect(() => encodeMethodCall('x', [v])).toThrow(XmlRpcFormatError);
  });
});

describe('truncation at every byte offset', () => {
  const cases: Array<[string, (xml: string) => unknown]> = [
    ['getBuild.xml', decodeMethodResponse],
    ['system.multicall-with-fault.xml', decodeMethodResponse],
    ['db-down-listHosts.xml', decodeMethodResponse],
    ['multiCall-task-counts-by-state.request.xml', decodeMethodCall],
  ];

  it.each(cases)('%s: every prefix errors with XmlRpcFormatError, except the one losing only trailing whitespace', (file, decode) => {
    const xml = fixture(file);
    const full = decode(xml);
    const bad: string[] = [];
    let successes = 0;
    for (let i = 0; i < xml.length; i++) {
      const prefix = xml.slice(0, i);
      try {
        const got = decode(prefix);
        successes += 1;
        if (prefix.trimEnd() !== xml.trimEnd()) bad.push(`offset ${i}: accepted a truncated document`);
        else expect(got).toEqual(full);
      } catch (e) {
        if (!(e instanceof XmlRpcFormatError)) bad.push(`offset ${i}: ${String(e)}`);
      }
    }
    expect(bad).toEqual([]);
    expect(successes).toBe(xml.length - xml.trimEnd().length);
  });
});

describe('bodies that are not XML-RPC', () => {
  it('an HTML error page (with and without DOCTYPE, and as XHTML)', () => {
    expectRefused('<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><hr><address>Apache</address></body></html>\n');
    expectRefused('<html><head><title>503</title></head><body><p>Service Unavailable<br></p></body></html>');
    expectRefused('<html><body><p>Service Unavailable</p></body></html>', /expected <methodResponse>/);
  });

  it('JSON, plain text, empty and whitespace bodies', () => {
    expectRefused('{"faultCode": 1014, "faultString": "database outage"}');
    expectRefused('[1, 2, 3]');
    expectRefused('Internal Server Error');
    expectRefused('', /root element|empty/);
    expectRefused('  \r\n\t ');
    expectRefused(`<?xml version='1.0'?>`);
  });

  it('non-UTF-8 and binary junk', () => {
    const reply = fixture('getLastEvent.xml');
    const bodies = [
      Buffer.from(reply, 'utf16le').toString('utf8'), // UTF-16 read as UTF-8: NULs everywhere
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xf3, 0x48, 0xcd]).toString('utf8'), // gzip
      Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe, 0x3c, 0x00]).toString('latin1'),
      Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256)).toString('utf8'),
      Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) % 256)).toString('latin1'),
      `\uFFFE${reply}`,
      `\u0000${reply}`,
      reply.replace('18', '1\u00008'),
      reply.replace('ts', 't\uD800s'),
      reply.replace('<int>', '<int>\uDC00'),
    ];
    for (const body of bodies) expectRefused(body);
    // a UTF-8 BOM in front of the reply is fine
    expect(attempt(`\uFEFF${reply}`)).toEqual({ ok: true, value: decodeMethodResponse(reply) });
  });

  it('a <methodResponse> with both params and fault, or with anything extra', () => {
    const fault = '<fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault>';
    const params = '<params><param><value><int>1</int></value></param></params>';
    expectRefused(`<methodResponse>${params}${fault}</methodResponse>`, /exactly one/);
    expectRefused(`<methodResponse>${fault}${params}</methodResponse>`, /exactly one/);
    expectRefused(`<methodResponse>${params}${params}</methodResponse>`, /exactly one/);
    expectRefused(`<methodResponse>${params}</methodResponse><methodResponse>${params}</methodResponse>`, /one root/);
    expectRefused(`<methodResponse>${params}</methodResponse>trailing`);
    expectRefused(`<?xml version='1.0'?><?xml version='1.0'?><methodResponse>${params}</methodResponse>`);
  });

  it('malformed values', () => {
    expectRefused(wrap('<value>text<int>1</int></value>'), /mixed text/);
    expectRefused(wrap('<value><int>1</int>tail</value>'), /mixed text/);
    expectRefused(wrap('<value><int>1</int><int>2</int></value>'), /more than one/);
    for (const garbage of ['12abc', '', ' ', '1 2', '0x10', '1e3', '1.0', '--1', '+', '١٢', 'NaN', 'Infinity']) expectRefused(wrap(`<value><int>${garbage}</int></value>`), /not an integer/);
    expectRefused(wrap('<value><i8>1.5</i8></value>'), /not an integer/);
    expectRefused(wrap('<value><double>0x1p3</double></value>'), /not a number/);
    expectRefused(wrap('<value><double>1,5</double></value>'), /not a number/);
    expectRefused(wrap('<value><boolean></boolean></value>'), /not a boolean/);
    expectRefused(wrap('<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>'), /ISO 8601/);
    expectRefused(wrap('<value><struct><member><value><int>1</int></value></member></struct></value>'), /one <name> and one <value>/);
    expectRefused(wrap('<value><struct><member><name>a</name><name>b</name><value/></member></struct></value>'), /one <name> and one <value>/);
    expectRefused(wrap('<value><struct><name>a</name><value/></struct></value>'), /expected <member>/);
    expectRefused(wrap('<value><array><value/></array></value>'), /<data>/);
    expectRefused(wrap('<value><object/></value>'), /unknown XML-RPC type/);
    expectRefused(wrap('<int>1</int>'), /exactly one <value>/);
  });

  it('mismatched and malformed tags', () => {
    expectRefused(wrap('<value><int>1</i4></value>'));
    expectRefused(wrap('<value><int>1</value>'));
    expectRefused(wrap('<value><int a=1>1</int></value>'));
    expectRefused(wrap('<value><int a="1" a="2">1</int></value>'));
    expectRefused(wrap('<value><1int>1</1int></value>'));
    expectRefused(wrap('<value><string><![CDATA[open</string></value>'));
    expectRefused(wrap('<value><!-- open </value>'));
    expectRefused(wrap('<value>]]></value>'));
    expectRefused(wrap('<value>a < b</value>'));
  });
});

describe('big values', () => {
  it('a 5 MB string value decodes, quickly', () => {
    const big = 'koji & <build> '.repeat(350_000); // ~5.2 MB of text, escaped on the wire
    const wire = encodeMethodResponse({ log: big });
    const { value, ms } = timed(() => decodeMethodResponse(wire));
    expect(value).toEqual({ kind: 'result', value: { log: big } });
    expect(ms).toBeLessThan(3000);
  });

  it('a 5 MB typeless value and a 5 MB base64 decode', () => {
    const text = 'x'.repeat(5_000_000);
    expect(decodeMethodResponse(wrap(`<value>${text}</value>`))).toEqual({ kind: 'result', value: text });
    const bytes = new Uint8Array(3_750_000).map((_, i) => i % 251);
    const got = decodeMethodResponse(encodeMethodResponse(bytes));
    expect(got.kind === 'result' && got.value instanceof Uint8Array && Buffer.compare(got.value, bytes)).toBe(0);
  });

  it('an array of 100,000 elements decodes', () => {
    const { value, ms } = timed(() => decodeMethodResponse(wrap(`<value><array><data>${'<value><int>7</int></value>'.repeat(100_000)}</data></array></value>`)));
    expect(value.kind === 'result' && Array.isArray(value.value) && value.value.length).toBe(100_000);
    expect(ms).toBeLessThan(3000);
  });

  it('a huge run of digits in <int> or <double> is refused in linear time (no regex backtracking)', () => {
    const digits = '1'.repeat(50_000);
    for (const xml of [
      wrap(`<value><int>${'9'.repeat(1_000_000)}</int></value>`),
      wrap(`<value><int>${digits}x</int></value>`),
      wrap(`<value><double>${digits}x</double></value>`),
      wrap(`<value><double>${digits}.${digits}x</double></value>`),
      wrap(`<value><double>${digits}e${digits}x</double></value>`),
    ]) {
      const { ms } = timed(() => expectRefused(xml));
      expect(ms, xml.slice(0, 80)).toBeLessThan(250);
    }
    // a long but valid number still decodes
    expect(decodeMethodResponse(wrap(`<value><double>${digits}</double></value>`))).toEqual({ kind: 'result', value: Number.POSITIVE_INFINITY });
    expect(decodeMethodResponse(wrap(`<value><int>${'0'.repeat(1_000_000)}42</int></value>`))).toEqual({ kind: 'result', value: 42 });
  });
});

describe('seeded mutation fuzz', () => {
  /** mulberry32: small, deterministic. */
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const INSERTS = ['<', '>', '&', '/', '"', "'", '=', ';', '<!', '&#', '&#x', '&amp;', '&lt;', '<![CDATA[', ']]>', '<?', '?>', '<!--', '-->', '<value>', '</value>', '<nil/>', '<data>', '</struct>', '\u0000', '\uD800', '\uFFFF', '9', '-', '.', 'e', ' ', '\n'];
  const TYPES = ['int', 'i4', 'i8', 'ex:i8', 'double', 'boolean', 'string', 'nil', 'ex:nil', 'base64', 'dateTime.iso8601', 'array', 'data', 'struct', 'member', 'name', 'value', 'param', 'params', 'fault', 'methodResponse', 'methodCall', 'methodName', 'bogus'];

  function mutate(src: string, rand: () => number): string {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const pos = (s: string): number => Math.floor(rand() * (s.length + 1));
    let s = src;
    const n = 1 + Math.floor(rand() * 4);
    for (let k = 0; k < n; k++) {
      const p = pos(s);
      switch (Math.floor(rand() * 7)) {
        case 0: // flip one character to a random code unit (ASCII mostly)
          s = s.slice(0, p) + String.fromCharCode(rand() < 0.8 ? Math.floor(rand() * 128) : Math.floor(rand() * 0x10000)) + s.slice(p + 1);
          break;
        case 1: // delete a short range
          s = s.slice(0, p) + s.slice(p + 1 + Math.floor(rand() * 8));
          break;
        case 2: // insert markup characters
          s = s.slice(0, p) + pick(INSERTS) + s.slice(p);
          break;
        case 3: {
          // duplicate a slice somewhere else
          const a = pos(s);
          const piece = s.slice(a, a + Math.floor(rand() * 64));
          s = s.slice(0, p) + piece + s.slice(p);
          break;
        }
        case 4: {
          // rename one element type everywhere (stays well-formed: type confusion)
          const from = pick(TYPES);
          const to = pick(TYPES);
          s = s.split(`<${from}>`).join(`<${to}>`).split(`</${from}>`).join(`</${to}>`).split(`<${from}/>`).join(`<${to}/>`);
          break;
        }
        case 5: {
          // replace the text of one element with a tricky scalar
          const texts = ['', ' ', '-0', '1e999', '-1e999', 'inf', 'nan', '9223372036854775808', '-9223372036854775809', '99999999999999999999', '1.', '.', 'true', 'x', '19980717T14:08:55', '2026-02-30T00:00:00', '====', '<'];
          const m = />([^<]*)</g;
          const all = [...s.matchAll(m)];
          if (all.length > 0) {
            const hit = pick(all);
            const at = (hit.index ?? 0) + 1;
            s = s.slice(0, at) + pick(texts).replace('<', '&lt;') + s.slice(at + (hit[1]?.length ?? 0));
          }
          break;
        }
        default: // truncate
          s = s.slice(0, p);
      }
    }
    return s;
  }

  /** Everything a caller does with a decoded reply: may throw XmlRpcFormatError, nothing else. */
  function exercise(r: XmlRpcResponse): void {
    if (r.kind === 'fault') {
      expect(Number.isInteger(r.fault.code)).toBe(true);
      expect(typeof r.fault.message).toBe('string');
      return;
    }
    asFault(r.value);
    for (const n of [0, 1, 4, 6]) {
      const problem = unexpected(() => multiCallResults(r.value, n));
      if (problem) throw new Error(`multiCallResults: ${problem}`);
    }
    const problem = unexpected(() => decodeMethodResponse(encodeMethodResponse(r.value)));
    if (problem) throw new Error(`re-encoding: ${problem}`);
  }

  it('2,000 mutations of recorded replies and requests: only XmlRpcFormatError or success, fast', () => {
    const rand = rng(0x6b6f6a69);
    const sources = FILES.map((f) => ({ file: f, xml: fixture(f), request: f.endsWith('.request.xml') }));
    const problems = new Map<string, string>();
    let accepted = 0;
    let refused = 0;
    const start = performance.now();
    for (let i = 0; i < 2000; i++) {
      const src = sources[Math.floor(rand() * sources.length)];
      if (!src) continue;
      const xml = mutate(src.xml, rand);
      try {
        if (src.request) {
          const call = decodeMethodCall(xml);
          const again = unexpected(() => decodeMethodCall(encodeMethodCall(call.methodName, call.params)));
          if (again) throw new Error(`re-encoding a call: ${again}`);
        } else exercise(decodeMethodResponse(xml));
        accepted += 1;
      } catch (e) {
        if (e instanceof XmlRpcFormatError) refused += 1;
        else {
          const key = e instanceof Error ? `${e.constructor.name}: ${e.message.slice(0, 120)}` : String(e);
          if (!problems.has(key)) problems.set(key, `${src.file} #${i}: ${JSON.stringify(xml.slice(0, 400))}`);
        }
      }
    }
    const ms = performance.now() - start;
    expect([...problems].map(([k, sample]) => `${k}\n  ${sample}`)).toEqual([]);
    // the fuzz reaches both outcomes
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(500);
    expect(ms).toBeLessThan(10_000);
  });

  it('replies and requests mixed up: each decoder refuses the other kind cleanly', () => {
    for (const f of REPLIES) expect(unexpected(() => decodeMethodCall(fixture(f)))).toBeUndefined();
    for (const f of REQUESTS) expect(unexpected(() => decodeMethodResponse(fixture(f)))).toBeUndefined();
    expect(() => decodeMethodCall(fixture('getLastEvent.xml'))).toThrow(XmlRpcFormatError);
    expect(() => decodeMethodResponse(fixture('getLastEvent.request.xml'))).toThrow(XmlRpcFormatError);
  });
});
