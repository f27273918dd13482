/**
 * The fixed population behind generated trees: ~150 maintainers, ~250 source packages with
 * versions, and the ACL (`list.packages.<repo>`, `list.groups.<repo>`) that decides who may
 * build what. It comes from a constant seed, so every tree and the mutator share it.
 */
import { Rng } from '../prng.js';
import { GEN_REPOS, type Evr } from './generator-model.js';

export interface Person {
  login: string;
  name: string;
  uid: number;
}

export interface Package {
  name: string;
  evr: Evr;
  /** ACL entry: leader then members (logins, `@group`, `@everybody`); absent = unlisted. */
  acl?: string[];
}

export interface World {
  persons: readonly Person[];
  byLogin: ReadonlyMap<string, Person>;
  /** Activity weight per login (a few maintainers file most tasks). */
  weights: readonly (readonly [string, number])[];
  packages: readonly Package[];
  byName: ReadonlyMap<string, Package>;
  groups: ReadonlyMap<string, readonly string[]>;
  maint: ReadonlySet<string>;
  tester: ReadonlySet<string>;
}

const FIRST = [
  'Aleksey', 'Andrey', 'Anton', 'Artem', 'Boris', 'Dmitry', 'Egor', 'Evgeny', 'Gleb', 'Igor', 'Ilya', 'Ivan',
  'Kirill', 'Konstantin', 'Leonid', 'Maxim', 'Mikhail', 'Nikita', 'Nikolay', 'Oleg', 'Pavel', 'Roman', 'Ruslan',
  'Sergey', 'Stanislav', 'Timur', 'Vadim', 'Valery', 'Vasily', 'Viktor', 'Vitaly', 'Vladimir', 'Yury', 'Anna',
  'Elena', 'Irina', 'Olga', 'Tatiana', 'Maria', 'Natalia', 'Ekaterina', 'Svetlana', 'Daria', 'Ksenia',
];
const FEMALE = new Set(['Anna', 'Elena', 'Irina', 'Olga', 'Tatiana', 'Maria', 'Natalia', 'Ekaterina', 'Svetlana', 'Daria', 'Ksenia']);
const LAST = [
  'Ivanov', 'Smirnov', 'Kuznetsov', 'Popov', 'Vasiliev', 'Petrov', 'Sokolov', 'Mikhailov', 'Novikov', 'Fedorov',
  'Morozov', 'Volkov', 'Alekseev', 'Lebedev', 'Semenov', 'Egorov', 'Pavlov', 'Kozlov', 'Stepanov', 'Nikolaev',
  'Orlov', 'Andreev', 'Makarov', 'Nikitin', 'Zakharov', 'Zaitsev', 'Solovyov', 'Borisov', 'Yakovlev', 'Grigoriev',
  'Romanov', 'Vorobyov', 'Sergeev', 'Kuzmin', 'Frolov', 'Dmitriev', 'Korolev', 'Gusev', 'Kiselev', 'Ilyin',
  'Maksimov', 'Polyakov', 'Sorokin', 'Vinogradov', 'Kovalev', 'Belov', 'Medvedev', 'Antonov', 'Tarasov', 'Zhukov',
  'Baranov', 'Filippov', 'Komarov', 'Davydov', 'Belyaev', 'Gerasimov', 'Bogdanov', 'Osipov', 'Sidorov', 'Matveev',
  'Titov', 'Markov', 'Mironov', 'Krylov', 'Kulikov', 'Karpov', 'Vlasov', 'Melnikov', 'Denisov', 'Gavrilov',
];
const NICKS = ['zerg', 'snejok', 'raven', 'lynx', 'nomad', 'kitsune', 'owl', 'darkstar', 'pilot', 'cobra', 'fox', 'kot'];

/** Package names by team; the team's group appears in the ACL of its packages. */
const PACKAGE_SETS: readonly (readonly [group: string | null, names: readonly string[]])[] = [
  [null, [
    'bash', 'coreutils', 'glibc', 'gcc14', 'llvm19', 'binutils', 'elfutils', 'gdb', 'valgrind', 'strace', 'make',
    'cmake', 'meson', 'ninja-build', 'autoconf', 'automake', 'libtool', 'rpm-build', 'apt', 'girar', 'gear',
    'hasher', 'rust', 'golang', 'lua5.4', 'tcl', 'systemd', 'openssl3', 'curl', 'wget', 'git', 'vim', 'emacs',
    'nginx', 'postgresql17', 'mariadb', 'php8.4', 'samba', 'cups', 'bluez', 'openldap', 'krb5', 'sssd', 'bind',
    'dnsmasq', 'chrony', 'rsyslog', 'logrotate', 'cronie', 'tzdata', 'ca-certificates', 'nss', 'icu', 'libxml2',
    'libxslt', 'sqlite3', 'zlib', 'bzip2', 'lz4', 'zstd', 'xz', 'tar', 'openssh', 'sudo', 'NetworkManager',
    'grub', 'dracut', 'docker-engine', 'podman', 'containerd', 'etcd', 'prometheus', 'grafana', 'ffmpeg',
    'gstreamer1.0', 'pipewire', 'mesa', 'xorg-server', 'firefox', 'thunderbird', 'libreoffice', 'gimp', 'inkscape',
    'nvidia_glx_libs_580.142', 'boost', 'libpng', 'libjpeg-turbo', 'libtiff', 'freetype', 'fontconfig', 'harfbuzz',
    'pango', 'cairo', 'dbus', 'polkit', 'shadow', 'pam', 'util-linux', 'e2fsprogs', 'xfsprogs', 'btrfs-progs',
    'lvm2', 'mdadm', 'cryptsetup', 'iproute2', 'iptables', 'nftables', 'firewalld', 'wireguard-tools', 'ocserv',
    'alterator-net-eth', 'alterator-users', 'branding-alt-workstation', 'installer-feature-desktop', 'regular-images',
  ]],
  ['python', [
    'python3', 'python3-module-requests', 'python3-module-urllib3', 'python3-module-six', 'python3-module-setuptools',
    'python3-module-pip', 'python3-module-numpy', 'python3-module-scipy', 'python3-module-pandas', 'python3-module-django',
    'python3-module-flask', 'python3-module-pytest', 'python3-module-attrs', 'python3-module-jinja2', 'python3-module-yaml',
    'python3-module-lxml', 'python3-module-cryptography', 'python3-module-cffi', 'python3-module-idna',
    'python3-module-certifi', 'python3-module-packaging', 'python3-module-wheel', 'python3-module-sphinx',
    'python3-module-docutils', 'python3-module-pygments', 'python3-module-click', 'python3-module-rich',
    'python3-module-psutil', 'python3-module-sqlalchemy', 'python3-module-aiohttp',
  ]],
  ['perl', ['perl', 'perl-DBI', 'perl-DBD-Pg', 'perl-JSON', 'perl-libwww', 'perl-Moose', 'perl-Try-Tiny', 'perl-Test-Simple', 'perl-XML-LibXML']],
  ['kernel', ['kernel-image-un-def', 'kernel-image-std-def', 'kernel-modules-nvidia-un-def', 'kernel-modules-v4l2loopback-un-def', 'kernel-modules-virtualbox-std-def', 'linux-firmware']],
  ['ocaml', ['ocaml', 'ocaml-yojson', 'ocaml-dune', 'ocaml-findlib', 'ocaml-lwt', 'ocaml-cmdliner', 'tiny_httpd', 'ocaml-ppxlib']],
  ['kde', ['qt6-base', 'qt6-declarative', 'kf6-kio', 'kf6-kcoreaddons', 'plasma6-workspace', 'plasma6-desktop', 'kde6-dolphin', 'kde6-konsole']],
  ['gnome', ['gtk4', 'glib2', 'gnome-shell', 'mutter', 'nautilus', 'gnome-control-center', 'gnome-terminal', 'libadwaita']],
  ['gis', ['qgis', 'gdal', 'proj', 'geos', 'grass', 'pdal', 'saga', 'postgis']],
  ['ruby', ['ruby', 'gem-rake', 'gem-bundler', 'gem-nokogiri', 'gem-rails', 'gem-rspec']],
  ['nodejs', ['nodejs', 'node-typescript', 'node-npm', 'yarn']],
];
const TEAMS = PACKAGE_SETS.map(([g]) => g).filter((g): g is string => g !== null);

/** Names the ACL leaves out ("new package" subtasks whose check passes as unlisted). */
const UNLISTED = new Set(['ocserv', 'node-typescript', 'gem-rspec', 'kde6-konsole', 'python3-module-rich', 'perl-Try-Tiny', 'saga']);

let cached: World | undefined;

/** The shared population (memoized; built from a constant seed). */
export function world(): World {
  cached ??= buildWorld(new Rng(0x6a1ca4));
  return cached;
}

function buildWorld(rng: Rng): World {
  const persons: Person[] = [];
  const seen = new Set<string>();
  while (persons.length < 150) {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST) + (FEMALE.has(first) ? 'a' : '');
    const f = first.toLowerCase();
    const l = last.toLowerCase();
    const login = rng.weighted([
      [(f.charAt(0) + l).slice(0, 8), 5], [l.slice(0, 8), 2], [`${f}${l.charAt(0)}`, 2], [`${f.charAt(0)}${rng.pick([...'abdgkmnprstv'])}${l.charAt(0)}`, 1],
      [rng.pick(NICKS), 0.5], [`${f.slice(0, 3)}${l.slice(0, 3)}`, 1],
    ] as const);
    if (seen.has(login) || login.length < 2) continue;
    seen.add(login);
    persons.push({ login, name: `${first} ${last}`, uid: 50000 + persons.length });
  }
  const byLogin = new Map(persons.map((p) => [p.login, p]));
  const weights = persons.map((p, i) => [p.login, 1 / Math.pow(i + 1, 0.8)] as const);
  const logins = persons.map((p) => p.login);

  // Approver groups come from the middle of the activity ranking, disjoint but for one member.
  const maint = logins.slice(10, 19);
  const tester = [...logins.slice(19, 27), maint[0] as string];
  const groups = new Map<string, string[]>([
    ['@maint', maint], ['@tester', tester], ['@qa', logins.slice(27, 32)],
  ]);
  for (const team of TEAMS) {
    const members = new Set<string>();
    const size = rng.int(3, 8);
    while (members.size < size) members.add(rng.weighted(weights));
    groups.set(`@${team}`, [...members]);
  }

  const packages: Package[] = [];
  for (const [team, names] of PACKAGE_SETS) {
    for (const name of names) {
      const evr: Evr = {
        version: rng.chance(0.15) ? `${rng.int(2018, 2025)}${String(rng.int(1, 12)).padStart(2, '0')}${String(rng.int(1, 28)).padStart(2, '0')}` : `${rng.int(0, 12)}.${rng.int(0, 40)}${rng.chance(0.7) ? `.${rng.int(0, 20)}` : ''}`,
        release: `alt${rng.int(1, 4)}`,
      };
      if (rng.chance(0.06)) evr.epoch = rng.int(1, 3);
      const pkg: Package = { name, evr };
      if (!UNLISTED.has(name)) pkg.acl = aclEntry(rng, weights, team);
      packages.push(pkg);
    }
  }
  return {
    persons, byLogin, weights, packages, byName: new Map(packages.map((p) => [p.name, p])),
    groups, maint: new Set(maint), tester: new Set(tester),
  };
}

function aclEntry(rng: Rng, weights: readonly (readonly [string, number])[], team: string | null): string[] {
  if (rng.chance(0.05)) return ['@nobody'];
  const leader = rng.weighted(weights);
  const members = new Set<string>();
  for (let i = rng.weighted([[0, 4], [1, 3], [2, 2], [3, 1]] as const); i > 0; i--) members.add(rng.weighted(weights));
  members.delete(leader);
  const entry = [leader, ...members];
  if (team && rng.chance(0.5)) entry.push(`@${team}`);
  if (rng.chance(0.3)) entry.push('@qa');
  if (rng.chance(0.05)) entry.push('@everybody');
  return entry;
}

/** girar-check-perms steps 4-6 (no superusers, everyone in `maintainers`, unlisted allowed). */
export function hasRights(w: World, login: string, pkgName: string): boolean {
  const acl = w.byName.get(pkgName)?.acl;
  if (!acl) return true;
  if (acl[0] === '@nobody' || acl.includes('@everybody') || acl.includes('*')) return true;
  return acl.some((m) => (m.startsWith('@') ? (w.groups.get(m)?.includes(login) ?? false) : m === login));
}

/** Who approved or disapproved one `plan/check_acl` row. */
export interface AclRow {
  pkg: string;
  author: string;
  approvers: readonly string[];
  disapprovers: readonly string[];
}

/**
 * girar-check-subtask-perms in `--mode=needs-approval-by-<mode>` (reference §6.3; no superusers):
 * 0 = needs this group, 77 = allowed, 1 = denied.
 */
export function rowStatus(w: World, row: AclRow, mode: 'maint' | 'tester'): 0 | 1 | 77 {
  if (row.disapprovers.some((l) => hasRights(w, l, row.pkg) || w.maint.has(l) || w.tester.has(l))) return 1;
  if (hasRights(w, row.author, row.pkg)) return 77;
  if (row.approvers.some((l) => hasRights(w, l, row.pkg))) return 77;
  const byMaint = w.maint.has(row.author) || row.approvers.some((l) => w.maint.has(l));
  const byTester = row.approvers.some((l) => w.tester.has(l));
  if (byMaint && byTester) return 77;
  // The group that already approved is not needed again: girar exits 77 for it, not 1.
  if (byMaint) return mode === 'tester' ? 0 : 77;
  if (byTester) return mode === 'maint' ? 0 : 77;
  return mode === 'maint' ? 0 : 1;
}

/** girar-check-subtask-perms in normal mode (no superusers): may this row be committed? */
export function rowAllowed(w: World, row: AclRow): boolean {
  if (row.disapprovers.some((l) => hasRights(w, l, row.pkg) || w.maint.has(l) || w.tester.has(l))) return false;
  if (hasRights(w, row.author, row.pkg) || row.approvers.some((l) => hasRights(w, l, row.pkg))) return true;
  const byMaint = w.maint.has(row.author) || row.approvers.some((l) => w.maint.has(l));
  return byMaint && row.approvers.some((l) => w.tester.has(l));
}

/** girar-check-task-perms --mode=needs-approval-by-*: which group a task waits for (null: neither). */
export function needsApproval(w: World, rows: readonly AclRow[]): 'maint' | 'tester' | null {
  for (const mode of ['maint', 'tester'] as const) {
    const codes = rows.map((r) => rowStatus(w, r, mode));
    if (codes.includes(0) && codes.every((c) => c === 0 || c === 77)) return mode;
  }
  return null;
}

/** `list.packages.<repo>`: `<pkg>\t<leader> [<member> ...]`, sorted, unique. */
export function renderPackageList(w: World): string {
  const lines = w.packages.filter((p) => p.acl).map((p) => `${p.name}\t${(p.acl as string[]).join(' ')}`);
  return `${[...new Set(lines)].sort(byteOrder).join('\n')}\n`;
}

/** `list.groups.<repo>`: `@<group>\t<leader> [<login> ...]`, sorted, unique. */
export function renderGroupList(w: World): string {
  const lines = [...w.groups].map(([g, members]) => `${g}\t${members.join(' ')}`);
  return `${lines.sort(byteOrder).join('\n')}\n`;
}

/** `<root>/passwd`: `alt_<login>:x:<uid>:<gid>::/people/<login>:/bin/sh` for every login. */
export function renderPasswd(w: World): string {
  return w.persons.map((p) => `alt_${p.login}:x:${p.uid}:${p.uid}::/people/${p.login}:/bin/sh\n`).join('');
}

export const ACL_REPOS = GEN_REPOS.map((r) => r.name);

function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
