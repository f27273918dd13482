/** Free text found in tasks: run messages and approval comments, ASCII and some Russian. */
import type { Rng } from '../prng.js';

const MESSAGES = [
  'update to {ver}', '{pkg}: update to {ver}', '{pkg} {ver}', 'new version', 'security update (fixes CVE-2025-{n})',
  'rebuild with new {lib}', 'fix FTBFS with gcc14', 'backport from sisyphus', 'new package', 'fixes: ALT#{n}',
  'sync with "sisyphus" state', 'mass rebuild for {lib} soname bump', 'drop obsolete {pkg}', 'rebuild {pkg} from sisyphus',
  'обновление до {ver}', 'исправление сборки', 'перенос из sisyphus (ALT#{n})', '{pkg}: исправлена уязвимость CVE-2025-{n}',
  'test rebuild, do not commit', 'update {pkg} and its dependencies; see "{pkg} {ver}" release notes',
];
const LIBS = ['openssl3', 'icu', 'boost', 'python3.13', 'perl 5.40', 'libxml2', 'protobuf', 'llvm19', 'poppler', 'qt6'];
const LONG = [
  'This update brings the package to the latest upstream release.', 'Upstream changes include bug fixes and performance improvements.',
  'The spec was cleaned up and obsolete patches were dropped.', 'Reverse dependencies were rebuilt and checked in a test task.',
  'Обновление исправляет несколько ошибок и уязвимостей.', 'Проверено на x86_64 и aarch64.',
];

/** A run message (`task run -m`): printable, whitespace squeezed, at most 1024 bytes. */
export function runMessage(rng: Rng, pkg: string, ver: string): string {
  let msg = rng.pick(MESSAGES).replaceAll('{pkg}', pkg).replaceAll('{ver}', ver).replaceAll('{lib}', rng.pick(LIBS)).replaceAll('{n}', String(rng.int(10000, 59999)));
  if (rng.chance(0.05)) {
    for (let i = rng.int(3, 20); i > 0; i--) msg += ` ${rng.pick(LONG)}`;
  }
  let buf = Buffer.from(msg);
  if (buf.length > 1024) {
    buf = buf.subarray(0, 1024);
    // Do not cut a multi-byte character in half.
    while (buf.length > 0 && ((buf[buf.length - 1] as number) & 0xc0) === 0x80) buf = buf.subarray(0, buf.length - 1);
    if (buf.length > 0 && ((buf[buf.length - 1] as number) & 0x80) !== 0) buf = buf.subarray(0, buf.length - 1);
  }
  return buf.toString('utf8');
}

const COMMENTS = [
  'Tested on x86_64, works for me.', 'LGTM', 'Проверено, работает.', 'See ALT#{n}.', 'Security fix, please commit.',
  'Checked reverse dependencies, no new unmets.', 'Needed for the upcoming release.', 'Обновление согласовано с сопровождающим.',
];
const DISAPPROVE = [
  'Please fix the changelog first.', 'Breaks reverse dependencies, see the unmets report.', 'Пакет ломает сборку зависимостей.',
  'Wait for the upstream fix.', 'Version downgrade, please check.',
];

export function approvalComment(rng: Rng, negative: boolean): string[] {
  const n = rng.weighted([[0, 3], [1, 5], [2, 2], [3, 1]] as const);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(rng.pick(negative ? DISAPPROVE : COMMENTS).replace('{n}', String(rng.int(10000, 59999))));
  return [...new Set(out)];
}
