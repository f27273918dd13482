/**
 * The XML-RPC codec against hand-written wire samples of every peculiarity of Koji's hub
 * (koji.md §2: nil, i8, datetimes as strings, `*_ts` doubles, faults with HTTP 200, multiCall's
 * one-element arrays and fault structs, `__starstar` keyword arguments), encoder choices and
 * refusals, round trips, and every recorded wire sample of a real hub.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  KOJI_FAULTS,
  MAX_VALUE_DEPTH,
  XmlRpcFormatError,
  asFault,
  decodeMethodCall,
  decodeMethodResponse,
  encodeFault,
  encodeMethodCall,
  encodeMethodResponse,
  isStruct,
  kwargs,
  multiCallResults,
  multiCallValue,
  type XmlRpcResponse,
  type XmlRpcStruct,
  type XmlRpcValue,
} from './xmlrpc.js';

// Recorded samples: a copy next to the source if there is one, else the shared folder (repo/../shared).
const LOCAL_FIXTURES = new URL('./fixtures/', import.meta.url);
const SHARED_FIXTURES = new URL('../../../../../shared/fixtures/koji/', import.meta.url);
const FIXTURES = existsSync(new URL('getLastEvent.xml', LOCAL_FIXTURES)) ? LOCAL_FIXTURES : SHARED_FIXTURES;
const fixture = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8');

const response = (valueXml: string): string => `<?xml version='1.0'?>\n<methodResponse><params><param>${valueXml}</param></params></methodResponse>\n`;

/** The value of a `<methodResponse>` holding `valueXml` as its one param. */
function value(valueXml: string): XmlRpcValue {
  const r = decodeMethodResponse(response(valueXml));
  if (r.kind !== 'result') throw new Error(`expected a result, got ${JSON.stringify(r)}`);
  return r.value;
}

function result(r: XmlRpcResponse): XmlRpcValue {
  if (r.kind !== 'result') throw new Error(`expected a result, got fault ${JSON.stringify(r.fault)}`);
  return r.value;
}

function struct(v: XmlRpcValue): XmlRpcStruct {
  if (!isStruct(v)) throw new Error('expected a struct');
  return v;
}

const expectFormatError = (fn: () => unknown, message?: RegExp): void => {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(XmlRpcFormatError);
  if (message) expect((caught as Error).message).toMatch(message);
};

const member = (name: string, valueXml: string): string => `<member><name>${name}</name>${valueXml}</member>`;

describe('decoding scalar values', () => {
  it('<nil/> and Apache <ex:nil/> are null', () => {
    expect(value('<value><nil/></value>')).toBeNull();
    expect(value('<value><ex:nil/></value>')).toBeNull();
    expect(value('<value><nil></nil></value>')).toBeNull();
  });

  it('<int> and <i4> are numbers, negative and signed too', () => {
    expect(value('<value><int>42</int></value>')).toBe(42);
    expect(value('<value><i4>-7</i4></value>')).toBe(-7);
    expect(value('<value><int>+5</int></value>')).toBe(5);
    expect(value('<value><int> 12 </int></value>')).toBe(12);
    expect(value('<value><i4>-2147483648</i4></value>')).toBe(-2147483648);
    expect(value('<value><int>2147483647</int></value>')).toBe(2147483647);
  });

  it('<i8> above 2^31 is a number while it is safe, a bigint above 2^53, an error above 2^63', () => {
    expect(value('<value><i8>1099511627776</i8></value>')).toBe(2 ** 40);
    expect(value('<value><i8>2147483648</i8></value>')).toBe(2 ** 31);
    expect(value('<value><i8>9007199254740991</i8></value>')).toBe(Number.MAX_SAFE_INTEGER);
    expect(value('<value><i8>9007199254740993</i8></value>')).toBe(9007199254740993n);
    expect(value('<value><i8>-9007199254740993</i8></value>')).toBe(-9007199254740993n);
    expect(value('<value><i8>9223372036854775807</i8></value>')).toBe(9223372036854775807n);
    expect(value('<value><i8>-9223372036854775808</i8></value>')).toBe(-9223372036854775808n);
    expect(value('<value><ex:i8>4294967296</ex:i8></value>')).toBe(2 ** 32);
    expectFormatError(() => value('<value><i8>9223372036854775808</i8></value>'), /64 bits/);
    expectFormatError(() => value('<value><i8>-9223372036854775809</i8></value>'), /64 bits/);
    expectFormatError(() => value('<value><int>99999999999999999999999999</int></value>'), /64 bits/);
  });

  it('doubles: 1.0 stays a number, exponents, and Koji *_ts epochs keep every digit', () => {
    expect(value('<value><double>1.0</double></value>')).toBe(1);
    expect(value('<value><double>2.0</double></value>')).toBe(2);
    expect(value('<value><double>-0.5</double></value>')).toBe(-0.5);
    expect(value('<value><double>1.5e3</double></value>')).toBe(1500);
    expect(value('<value><double>6.02E+23</double></value>')).toBe(6.02e23);
    expect(value('<value><double>1e-7</double></value>')).toBe(1e-7);
    expect(value('<value><double>.25</double></value>')).toBe(0.25);
    const ts = value('<value><double>1795500755.882623</double></value>');
    expect(ts).toBe(1795500755.882623);
    expect(String(ts)).toBe('1795500755.882623');
    expectFormatError(() => value('<value><double>1.2.3</double></value>'), /not a number/);
    expectFormatError(() => value('<value><double></double></value>'), /not a number/);
  });

  it('booleans are 0 and 1', () => {
    expect(value('<value><boolean>1</boolean></value>')).toBe(true);
    expect(value('<value><boolean>0</boolean></value>')).toBe(false);
    expectFormatError(() => value('<value><boolean>2</boolean></value>'), /not a boolean/);
    expectFormatError(() => value('<value><boolean>yes</boolean></value>'), /not a boolean/);
  });

  it('strings: entities, CDATA, a typeless <value> keeping whitespace, empty forms', () => {
    expect(value('<value><string>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</string></value>')).toBe(`a <b> & "c" 'd'`);
    expect(value('<value><string>&#233;&#x20AC;&#x1F600;</string></value>')).toBe('é€😀');
    expect(value('<value><string><![CDATA[<not> & markup]]></string></value>')).toBe('<not> & markup');
    expect(value('<value><string>x<![CDATA[<y>]]>z</string></value>')).toBe('x<y>z');
    expect(value('<value>  untyped text \n</value>')).toBe('  untyped text \n');
    expect(value('<value>a &amp; b</value>')).toBe('a & b');
    expect(value('<value><string/></value>')).toBe('');
    expect(value('<value><string></string></value>')).toBe('');
    expect(value('<value></value>')).toBe('');
    expect(value('<value/>')).toBe('');
    expect(value('<value><string>  padded  </string></value>')).toBe('  padded  ');
    expect(value('<value><string>line1\nline2&#13;</string></value>')).toBe('line1\nline2\r');
  });

  it('datetimes the hub sends as strings stay strings; a real dateTime.iso8601 is a Date', () => {
    expect(value('<value><string>2026-11-24 06:12:35.644425+00:00</string></value>')).toBe('2026-11-24 06:12:35.644425+00:00');
    expect(value('<value><dateTime.iso8601>20261124T06:12:35</dateTime.iso8601></value>')).toEqual(new Date('2026-11-24T06:12:35Z'));
    expect(value('<value><dateTime.iso8601>2026-11-24T06:12:35Z</dateTime.iso8601></value>')).toEqual(new Date('2026-11-24T06:12:35Z'));
    expect(value('<value><dateTime.iso8601>2026-11-24T06:12:35.5+02:00</dateTime.iso8601></value>')).toEqual(new Date('2026-11-24T04:12:35.500Z'));
    expect(value('<value><dateTime.iso8601>20261124T06:12:35-0130</dateTime.iso8601></value>')).toEqual(new Date('2026-11-24T07:42:35Z'));
    expectFormatError(() => value('<value><dateTime.iso8601>2026-11-24 06:12:35</dateTime.iso8601></value>'), /ISO 8601/);
    expectFormatError(() => value('<value><dateTime.iso8601>20261324T06:12:35</dateTime.iso8601></value>'), /valid date/);
    expectFormatError(() => value('<value><dateTime.iso8601>20261124T24:00:01</dateTime.iso8601></value>'), /valid date/);
  });

  it('a dateTime.iso8601 naming a day that does not exist is refused, not rolled over', () => {
    // new Date('2026-02-30T00:00:00Z') is 2 March; Python's strptime refuses it
    expectFormatError(() => value('<value><dateTime.iso8601>20260230T00:00:00</dateTime.iso8601></value>'), /valid date/);
    expectFormatError(() => value('<value><dateTime.iso8601>20250229T00:00:00</dateTime.iso8601></value>'), /valid date/);
    expect(value('<value><dateTime.iso8601>20280229T00:00:00</dateTime.iso8601></value>')).toEqual(new Date('2028-02-29T00:00:00Z'));
  });

  it('base64 is a Uint8Array, line breaks allowed', () => {
    const v = value('<value><base64>aGVs\nbG8A/w==</base64></value>');
    expect(v).toBeInstanceOf(Uint8Array);
    expect(Array.from(v as Uint8Array)).toEqual([0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00, 0xff]);
    expect(value('<value><base64></base64></value>')).toEqual(new Uint8Array(0));
  });

  it('an unknown type element is an error', () => {
    expectFormatError(() => value('<value><decimal>1</decimal></value>'), /unknown XML-RPC type/);
  });
});

describe('decoding arrays and structs', () => {
  it('nested arrays and structs', () => {
    const v = value(
      '<value><struct>' +
        member('list', '<value><array><data><value><int>1</int></value><value><array><data><value><nil/></value></data></array></value><value>s</value></data></array></value>') +
        member('inner', `<value><struct>${member('ok', '<value><boolean>1</boolean></value>')}${member('empty', '<value><array><data/></array></value>')}</struct></value>`) +
        member('none', '<value><struct></struct></value>') +
        '</struct></value>',
    );
    expect(v).toEqual({ list: [1, [null], 's'], inner: { ok: true, empty: [] }, none: {} });
  });

  it('whitespace between elements (as the hub pretty-prints) is ignored', () => {
    expect(value('<value>\n<array>\n<data>\n<value><int>1</int></value>\n</data>\n</array>\n</value>')).toEqual([1]);
  });

  it('a member named __proto__ is an own property and leaves the prototype alone', () => {
    const v = struct(value(`<value><struct>${member('__proto__', `<value><struct>${member('polluted', '<value><boolean>1</boolean></value>')}</struct></value>`)}${member('a', '<value><int>1</int></value>')}</struct></value>`));
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(v, '__proto__')).toBe(true);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toEqual({ polluted: true });
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // and it encodes back as a member, not lost
    const again = struct(result(decodeMethodResponse(encodeMethodResponse(v))));
    expect(Object.getOwnPropertyDescriptor(again, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('a repeated member name keeps the last value, as Python does', () => {
    expect(value(`<value><struct>${member('a', '<value><int>1</int></value>')}${member('a', '<value><int>2</int></value>')}</struct></value>`)).toEqual({ a: 2 });
  });

  it('malformed arrays and structs are format errors', () => {
    expectFormatError(() => value('<value><array></array></value>'), /<data>/);
    expectFormatError(() => value('<value><array><data/><data/></array></value>'), /<data>/);
    expectFormatError(() => value('<value><array><data><int>1</int></data></array></value>'), /expected <value>/);
    expectFormatError(() => value('<value><struct><value><int>1</int></value></struct></value>'), /expected <member>/);
    expectFormatError(() => value(`<value><struct><member><value><int>1</int></value></member></struct></value>`), /one <name> and one <value>/);
    expectFormatError(() => value(`<value><struct><member><name>a</name></member></struct></value>`), /one <name> and one <value>/);
    expectFormatError(() => value(`<value><struct><member><name>a</name><value/><value/></member></struct></value>`), /one <name> and one <value>/);
  });

  it('values nested deeper than MAX_VALUE_DEPTH are refused, just under it decode', () => {
    const nest = (n: number): string => '<value><array><data>'.repeat(n) + '<value><int>1</int></value>' + '</data></array></value>'.repeat(n);
    let ok: XmlRpcValue = value(nest(MAX_VALUE_DEPTH));
    for (let i = 0; i < MAX_VALUE_DEPTH; i++) ok = (ok as XmlRpcValue[])[0] as XmlRpcValue;
    expect(ok).toBe(1);
    expectFormatError(() => value(nest(MAX_VALUE_DEPTH + 2)), /nested deeper/);
  });
});

describe('responses and faults', () => {
  it('a fault response is {code, message}', () => {
    const xml = `<?xml version='1.0'?><methodResponse><fault><value><struct>${member('faultCode', '<value><int>1005</int></value>')}${member('faultString', '<value><string>BuildError: nope &amp; nope</string></value>')}</struct></value></fault></methodResponse>`;
    expect(decodeMethodResponse(xml)).toEqual({ kind: 'fault', fault: { code: 1005, message: 'BuildError: nope & nope' } });
  });

  it('a database outage is fault 1014 in an ordinary (HTTP 200) body, pretty-printed', () => {
    const xml = `<?xml version='1.0'?>
<methodResponse>
<fault>
<value><struct>
<member>
<name>faultCode</name>
<value><int>1014</int></value>
</member>
<member>
<name>faultString</name>
<value><string>database outage</string></value>
</member>
</struct></value>
</fault>
</methodResponse>
`;
    const r = decodeMethodResponse(xml);
    expect(r).toEqual({ kind: 'fault', fault: { code: KOJI_FAULTS.ServerOffline, message: 'database outage' } });
  });

  it('a fault without faultCode/faultString, or with a non-integer code, is a format error', () => {
    expectFormatError(() => decodeMethodResponse(`<methodResponse><fault><value><struct>${member('faultString', '<value>x</value>')}</struct></value></fault></methodResponse>`), /faultCode/);
    expectFormatError(() => decodeMethodResponse(`<methodResponse><fault><value><struct>${member('faultCode', '<value><double>1.5</double></value>')}${member('faultString', '<value>x</value>')}</struct></value></fault></methodResponse>`), /faultCode/);
    expectFormatError(() => decodeMethodResponse(`<methodResponse><fault><value><int>1</int></value></fault></methodResponse>`), /faultCode/);
  });

  it('a fault round-trips through encodeFault', () => {
    expect(decodeMethodResponse(encodeFault({ code: 1000, message: 'a <b> & c' }))).toEqual({ kind: 'fault', fault: { code: 1000, message: 'a <b> & c' } });
  });

  it('the envelope must be exactly one <params><param><value> or one <fault>', () => {
    expectFormatError(() => decodeMethodResponse('<methodCall><methodName>x</methodName></methodCall>'), /expected <methodResponse>/);
    expectFormatError(() => decodeMethodResponse('<methodResponse/>'), /exactly one/);
    expectFormatError(() => decodeMethodResponse('<methodResponse><params/></methodResponse>'), /exactly one <param>/);
    expectFormatError(() => decodeMethodResponse('<methodResponse><params><param><value>1</value></param><param><value>2</value></param></params></methodResponse>'), /exactly one <param>/);
    expectFormatError(() => decodeMethodResponse('<methodResponse><params><param/></params></methodResponse>'), /exactly one <value>/);
    expectFormatError(() => decodeMethodResponse('<methodResponse><result/></methodResponse>'), /expected <params> or <fault>/);
  });
});

describe('multiCall answers', () => {
  const fault = (code: number, message: string, extra = ''): string =>
    `<value><struct>${member('faultCode', `<value><int>${code}</int></value>`)}${member('faultString', `<value><string>${message}</string></value>`)}${extra}</struct></value>`;
  const one = (v: string): string => `<value><array><data>${v}</data></array></value>`;
  const answer = (...entries: string[]): XmlRpcValue => value(`<value><array><data>${entries.join('')}</data></array></value>`);

  it('one-element arrays are results, fault structs (with and without traceback) are faults', () => {
    const v = answer(
      one('<value><int>17</int></value>'),
      fault(1000, 'GenericError: no such task'),
      one('<value><nil/></value>'),
      fault(1, 'TypeError: bad', member('traceback', '<value><array><data><value><string>Traceback (most recent call last):</string></value><value><string>  File "x"</string></value></data></array></value>')),
      one('<value><array><data><value><int>1</int></value><value><int>2</int></value></data></array></value>'),
    );
    expect(multiCallResults(v, 5)).toEqual([
      { ok: true, value: 17 },
      { ok: false, fault: { code: 1000, message: 'GenericError: no such task' } },
      { ok: true, value: null },
      { ok: false, fault: { code: 1, message: 'TypeError: bad', traceback: ['Traceback (most recent call last):', '  File "x"'] } },
      { ok: true, value: [1, 2] },
    ]);
    expect(multiCallResults(answer(), 0)).toEqual([]);
  });

  it('multiCallValue encodes what multiCallResults decodes', () => {
    const results = [
      { ok: true as const, value: { id: 18, ts: 1795500755.882623 } },
      { ok: false as const, fault: { code: 1000, message: 'BuildError: x' } },
      { ok: false as const, fault: { code: 1, message: 'y', traceback: ['a', 'b'] } },
      { ok: true as const, value: [] },
    ];
    const wire = encodeMethodResponse(multiCallValue(results));
    expect(multiCallResults(result(decodeMethodResponse(wire)), results.length)).toEqual(results);
  });

  it('a wrong count or wrong element shapes are format errors', () => {
    const v = answer(one('<value><int>1</int></value>'), one('<value><int>2</int></value>'));
    expectFormatError(() => multiCallResults(v, 3), /2 results/);
    expectFormatError(() => multiCallResults(v, 1), /2 results/);
    expectFormatError(() => multiCallResults(value('<value><int>1</int></value>'), 1), /must be an array/);
    expectFormatError(() => multiCallResults(value('<value><struct></struct></value>'), 0), /must be an array/);
    expectFormatError(() => multiCallResults(answer('<value><array><data/></array></value>'), 1), /array of 0/);
    expectFormatError(() => multiCallResults(answer('<value><array><data><value>1</value><value>2</value></data></array></value>'), 1), /array of 2/);
    expectFormatError(() => multiCallResults(answer('<value><int>3</int></value>'), 1), /neither/);
    expectFormatError(() => multiCallResults(answer('<value><nil/></value>'), 1), /neither/);
    expectFormatError(() => multiCallResults(answer(`<value><struct>${member('faultCode', '<value><int>1</int></value>')}</struct></value>`), 1), /neither/);
    expectFormatError(() => multiCallResults(answer(`<value><struct>${member('faultCode', '<value>1</value>')}${member('faultString', '<value>x</value>')}</struct></value>`), 1), /neither/);
  });

  it('asFault takes only integer codes and string messages, and only string traceback lines', () => {
    expect(asFault({ faultCode: 1000, faultString: 'x', traceback: ['a', 3, 'b'] })).toEqual({ code: 1000, message: 'x', traceback: ['a', 'b'] });
    expect(asFault({ faultCode: 1000, faultString: 'x', traceback: 'not a list' })).toEqual({ code: 1000, message: 'x' });
    expect(asFault({ faultCode: '1000', faultString: 'x' })).toBeUndefined();
    expect(asFault([1000, 'x'])).toBeUndefined();
    expect(asFault(null)).toBeUndefined();
  });
});

describe('method calls and keyword arguments', () => {
  it('decodes a call by hand, params optional', () => {
    expect(decodeMethodCall(`<?xml version='1.0'?><methodCall><methodName> getLastEvent </methodName><params/></methodCall>`)).toEqual({ methodName: 'getLastEvent', params: [] });
    expect(decodeMethodCall(`<methodCall><methodName>getAPIVersion</methodName></methodCall>`)).toEqual({ methodName: 'getAPIVersion', params: [] });
    expect(decodeMethodCall(`<methodCall><methodName>getTaskInfo</methodName><params><param><value><int>3</int></value></param><param><value><boolean>1</boolean></value></param></params></methodCall>`)).toEqual({
      methodName: 'getTaskInfo',
      params: [3, true],
    });
    expectFormatError(() => decodeMethodCall('<methodCall><params/></methodCall>'), /no <methodName>/);
    expectFormatError(() => decodeMethodCall('<methodCall><methodName> </methodName></methodCall>'), /empty/);
    expectFormatError(() => decodeMethodCall('<methodCall><methodName>x</methodName><params><value/></params></methodCall>'), /expected <param>/);
    expectFormatError(() => decodeMethodCall('<methodResponse/>'), /expected <methodCall>/);
  });

  it('kwargs() is a trailing struct with __starstar true, undefined left out', () => {
    expect(kwargs({ a: 1, b: undefined, c: null })).toEqual({ __starstar: true, a: 1, c: null });
    const wire = encodeMethodCall('listTasks', [kwargs({ opts: { state: [0, 1] }, queryOpts: { countOnly: true } })]);
    expect(wire).toContain('<member><name>__starstar</name><value><boolean>1</boolean></value></member>');
    expect(decodeMethodCall(wire)).toEqual(decodeMethodCall(fixture('listTasks-count-open-kwargs.request.xml')));
    // the positional form is the recorded positional request
    expect(decodeMethodCall(encodeMethodCall('listTasks', [{ state: [0, 1] }, { countOnly: true }]))).toEqual(decodeMethodCall(fixture('listTasks-count-open.request.xml')));
  });

  it('method names with characters outside XML-RPC are refused', () => {
    expectFormatError(() => encodeMethodCall('a<b', []), /method name/);
    expectFormatError(() => encodeMethodCall('', []), /method name/);
    expectFormatError(() => encodeMethodCall('a b', []), /method name/);
    expect(decodeMethodCall(encodeMethodCall('system.multicall', [])).methodName).toBe('system.multicall');
  });
});

describe('encoding', () => {
  const wireOf = (v: XmlRpcValue): string => {
    const m = /<param>(.*)<\/param>/s.exec(encodeMethodResponse(v));
    return m?.[1] ?? '';
  };

  it('integers choose int, i8 or double by range', () => {
    expect(wireOf(0)).toBe('<value><int>0</int></value>');
    expect(wireOf(-0)).toBe('<value><int>0</int></value>');
    expect(wireOf(2147483647)).toBe('<value><int>2147483647</int></value>');
    expect(wireOf(-2147483648)).toBe('<value><int>-2147483648</int></value>');
    expect(wireOf(2147483648)).toBe('<value><i8>2147483648</i8></value>');
    expect(wireOf(-2147483649)).toBe('<value><i8>-2147483649</i8></value>');
    expect(wireOf(2 ** 40)).toBe('<value><i8>1099511627776</i8></value>');
    expect(wireOf(Number.MAX_SAFE_INTEGER)).toBe('<value><i8>9007199254740991</i8></value>');
    // beyond 2^53 a number is no longer an exact integer: sent as a double
    expect(wireOf(2 ** 53)).toBe('<value><double>9007199254740992.0</double></value>');
    expect(wireOf(1e21)).toBe('<value><double>1e+21</double></value>');
    // bigint: int when small, i8 up to 2^63-1, refused beyond
    expect(wireOf(5n)).toBe('<value><int>5</int></value>');
    expect(wireOf(2n ** 31n)).toBe('<value><i8>2147483648</i8></value>');
    expect(wireOf(2n ** 63n - 1n)).toBe('<value><i8>9223372036854775807</i8></value>');
    expect(wireOf(-(2n ** 63n))).toBe('<value><i8>-9223372036854775808</i8></value>');
    expectFormatError(() => encodeMethodResponse(2n ** 63n), /i8/);
    expectFormatError(() => encodeMethodResponse(-(2n ** 63n) - 1n), /i8/);
  });

  it('doubles always carry a point or exponent, so the hub reads a float', () => {
    expect(wireOf(1.5)).toBe('<value><double>1.5</double></value>');
    expect(wireOf(1795500755.882623)).toBe('<value><double>1795500755.882623</double></value>');
    expect(wireOf(1e-7)).toBe('<value><double>1e-7</double></value>');
    expect(value(wireOf(1e-7))).toBe(1e-7);
  });

  it('NaN and the infinities are refused', () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) expectFormatError(() => encodeMethodCall('x', [v]), /cannot be sent/);
    expectFormatError(() => encodeMethodCall('x', [{ a: [Number.NaN] }]), /cannot be sent/);
  });

  it('other scalars', () => {
    expect(wireOf(null)).toBe('<value><nil/></value>');
    expect(wireOf(true)).toBe('<value><boolean>1</boolean></value>');
    expect(wireOf(false)).toBe('<value><boolean>0</boolean></value>');
    expect(wireOf('a<b>&c\r\n')).toBe('<value><string>a&lt;b&gt;&amp;c&#13;\n</string></value>');
    expect(wireOf(']]>')).toBe('<value><string>]]&gt;</string></value>');
    expect(wireOf(new Date('2026-11-24T06:12:35Z'))).toBe('<value><dateTime.iso8601>20261124T06:12:35</dateTime.iso8601></value>');
    expect(wireOf(new Uint8Array([0, 255, 1]))).toBe('<value><base64>AP8B</base64></value>');
    expectFormatError(() => encodeMethodResponse(new Date(Number.NaN)), /invalid Date/);
  });

  it('a Date outside years 1..9999 is refused (the wire form has four year digits)', () => {
    // today these encode as "+0100000101T00:00:00" and "0000010101T00:00:00", which nobody can decode
    for (const d of [new Date('+010000-01-01T00:00:00Z'), new Date('-000001-01-01T00:00:00Z'), new Date('0000-06-01T00:00:00Z')]) expectFormatError(() => encodeMethodResponse(d));
    expect(value(wireOf(new Date('0001-01-01T00:00:00Z')))).toEqual(new Date('0001-01-01T00:00:00Z'));
    expect(value(wireOf(new Date('9999-12-31T23:59:59Z')))).toEqual(new Date('9999-12-31T23:59:59Z'));
  });

  it('characters XML 1.0 cannot carry are refused, in values and member names', () => {
    for (const bad of ['\u0000', 'a\u0001b', '\u0008', '\u000B', '\u000C', '\u001F', '\uFFFE', '\uFFFF', 'x\uD800', '\uD800y', '\uDC00', 'a\uDFFFb', '\uDC00\uD800']) {
      expectFormatError(() => encodeMethodCall('x', [bad]), /XML 1\.0 cannot carry/);
      expectFormatError(() => encodeMethodCall('x', [{ [bad]: 1 }]), /XML 1\.0 cannot carry/);
    }
    // the legal controls and a proper surrogate pair go through
    expect(value(wireOf('\t\n\r 😀 \uD83D\uDE00 \uFFFD'))).toBe('\t\n\r 😀 \uD83D\uDE00 \uFFFD');
  });

  it('a value nested deeper than MAX_VALUE_DEPTH, or a cycle, is refused', () => {
    const cyclic: XmlRpcValue[] = [];
    cyclic.push(cyclic);
    expectFormatError(() => encodeMethodCall('x', [cyclic]), /nested deeper/);
    const obj: XmlRpcStruct = {};
    obj.self = obj;
    expectFormatError(() => encodeMethodResponse(obj), /nested deeper/);
  });

  it('round trips a representative set through encodeMethodCall and encodeMethodResponse', () => {
    const values: XmlRpcValue[] = [
      null,
      true,
      false,
      0,
      -1,
      2147483647,
      -2147483648,
      2147483648,
      1099511627776,
      -1099511627776,
      Number.MAX_SAFE_INTEGER,
      9007199254740993n,
      -(2n ** 63n),
      2n ** 63n - 1n,
      1.5,
      1795500755.882623,
      1e-300,
      -2.5e100,
      '',
      ' spaced ',
      '2026-11-24 06:12:35.644425+00:00',
      'a <b> & "c" \'d\' ]]> \r\n\t é 😀',
      new Date('2026-11-24T06:12:35Z'),
      new Uint8Array([0, 1, 2, 253, 254, 255]),
      new Uint8Array(0),
      [],
      {},
      [1, 'two', [3, [null]], { four: 4 }],
      kwargs({ opts: { state: [0, 1], owner: null }, queryOpts: { countOnly: true, limit: 5 } }),
      { 'odd name <&>': { nested: [{ deeper: [true, 1.25] }] }, '': 'empty name', 'white space': ' ' },
    ];
    const call = decodeMethodCall(encodeMethodCall('echo', values));
    expect(call.methodName).toBe('echo');
    expect(call.params).toEqual(values);
    for (const v of values) expect(result(decodeMethodResponse(encodeMethodResponse(v)))).toEqual(v);
  });

  it('a bigint inside the safe range comes back as a number (same value, not the same type)', () => {
    expect(value(wireOf(2n ** 40n))).toBe(2 ** 40);
  });

  it('a Date loses its milliseconds (dateTime.iso8601 has whole seconds)', () => {
    expect(value(wireOf(new Date('2026-11-24T06:12:35.789Z')))).toEqual(new Date('2026-11-24T06:12:35Z'));
  });
});

describe('the recorded wire samples of a real hub', () => {
  const files = readdirSync(FIXTURES)
    .filter((f) => f.endsWith('.xml'))
    .sort();

  it('are all there', () => {
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(files.filter((f) => f.endsWith('.request.xml')).length).toBe(files.length / 2);
  });

  it.each(files)('%s decodes, and re-encodes to the same value', (file) => {
    const xml = fixture(file);
    if (file.endsWith('.request.xml')) {
      const call = decodeMethodCall(xml);
      expect(call.methodName).toMatch(/^[A-Za-z.]+$/);
      expect(decodeMethodCall(encodeMethodCall(call.methodName, call.params))).toEqual(call);
    } else {
      const r = decodeMethodResponse(xml);
      const again = r.kind === 'result' ? encodeMethodResponse(r.value) : encodeFault(r.fault);
      expect(decodeMethodResponse(again)).toEqual(r);
    }
  });

  it('getLastEvent: id 18, ts 1795500755.882623', () => {
    expect(result(decodeMethodResponse(fixture('getLastEvent.xml')))).toEqual({ id: 18, ts: 1795500755.882623 });
    expect(decodeMethodCall(fixture('getLastEvent.request.xml'))).toEqual({ methodName: 'getLastEvent', params: [] });
  });

  it('echo-i8: 2^40 as <i8>, nil, a double', () => {
    expect(result(decodeMethodResponse(fixture('echo-i8.xml')))).toEqual([1099511627776, null, 1.5]);
    expect(decodeMethodCall(fixture('echo-i8.request.xml'))).toEqual({ methodName: 'echo', params: [1099511627776, null, 1.5] });
    expect(encodeMethodCall('echo', [1099511627776, null, 1.5])).toContain('<value><i8>1099511627776</i8></value>');
  });

  it('multiCall-task-counts-by-state: six counts, one per state', () => {
    const call = decodeMethodCall(fixture('multiCall-task-counts-by-state.request.xml'));
    expect(call.methodName).toBe('multiCall');
    const calls = call.params[0] as XmlRpcValue[];
    expect(calls).toHaveLength(6);
    expect(calls[3]).toEqual({ methodName: 'listTasks', params: [{ state: [3] }, { countOnly: true }] });
    const results = multiCallResults(result(decodeMethodResponse(fixture('multiCall-task-counts-by-state.xml'))), 6);
    expect(results.map((r) => (r.ok ? r.value : 'fault'))).toEqual([2, 2, 1, 2, 1, 1]);
  });

  it('system.multicall-with-fault: third entry is fault 1000, later calls still answered', () => {
    const results = multiCallResults(result(decodeMethodResponse(fixture('system.multicall-with-fault.xml'))), 4);
    expect(results[0]).toEqual({ ok: true, value: { id: 18, ts: 1795500755.882623 } });
    const host = results[1];
    expect(host?.ok && struct(host.value)).toMatchObject({ name: 'builder2.example.com', capacity: 2, comment: null, enabled: true, update_ts: 1795500755.851677, task_load: 0 });
    expect(results[2]).toEqual({ ok: false, fault: { code: KOJI_FAULTS.GenericError, message: 'BuildError: error building package (arch x86_64)' } });
    expect(results[3]).toEqual({ ok: true, value: 1 });
    expect(decodeMethodCall(fixture('system.multicall-with-fault.request.xml')).methodName).toBe('system.multicall');
  });

  it('db-down-listHosts: fault 1014 database outage', () => {
    expect(decodeMethodResponse(fixture('db-down-listHosts.xml'))).toEqual({ kind: 'fault', fault: { code: 1014, message: 'database outage' } });
  });

  it('getTaskInfo-missing: nil, and -strict: fault 1000', () => {
    expect(decodeMethodResponse(fixture('getTaskInfo-missing.xml'))).toEqual({ kind: 'result', value: null });
    expect(decodeMethodResponse(fixture('getTaskInfo-missing-strict.xml'))).toEqual({ kind: 'fault', fault: { code: 1000, message: 'query returned no rows' } });
    expect(decodeMethodCall(fixture('getTaskInfo-missing-strict.request.xml'))).toEqual({ methodName: 'getTaskInfo', params: [999, false, true] });
  });

  it('getBuild: dates stay strings beside their *_ts doubles, NULLs are null', () => {
    const b = struct(result(decodeMethodResponse(fixture('getBuild.xml'))));
    expect(b).toMatchObject({ build_id: 3, id: 3, nvr: 'foo-1.1-1.fc40', creation_time: '2026-11-24 06:12:35.791753+00:00', creation_ts: 1795500755.791753, completion_ts: null, draft: false, epoch: null });
  });

  it('getHost-by-id-disabled: booleans 0 and nil update_ts', () => {
    expect(result(decodeMethodResponse(fixture('getHost-by-id-disabled.xml')))).toMatchObject({ id: 3, enabled: false, ready: false, update_ts: null, description: null, capacity: 2 });
  });

  it('listTasks-count-open (positional and kwargs): 4', () => {
    expect(result(decodeMethodResponse(fixture('listTasks-count-open.xml')))).toBe(4);
    expect(result(decodeMethodResponse(fixture('listTasks-count-open-kwargs.xml')))).toBe(4);
    expect(decodeMethodCall(fixture('listTasks-count-open-kwargs.request.xml')).params).toEqual([{ __starstar: true, opts: { state: [0, 1] }, queryOpts: { countOnly: true } }]);
  });

  it('listTasks-all: an array of task structs with integer ids and string times', () => {
    const tasks = result(decodeMethodResponse(fixture('listTasks-all.xml'))) as XmlRpcValue[];
    expect(tasks.length).toBeGreaterThan(0);
    for (const t of tasks) {
      const s = struct(t);
      expect(Number.isInteger(s.id)).toBe(true);
      expect(typeof s.create_time).toBe('string');
      expect(typeof s.create_ts).toBe('number');
    }
  });
});
