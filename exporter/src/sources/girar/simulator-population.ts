/**
 * Seeded generation of plausible girar tasks: ALT repos and arches, maintainers, gear / srpm /
 * copy / delete subtasks with girar's octal subtask numbering, flags and dependencies.
 */
import type { Rng } from './prng.js';
import { localTime, type SimSubtaskSpec, type SimTask } from './simulator-model.js';

/** Repos with a relative share of new tasks and the arches girar builds there. */
export const SIM_REPOS: readonly { name: string; weight: number; arches: readonly string[] }[] = [
  { name: 'sisyphus', weight: 6, arches: ['x86_64', 'i586', 'aarch64', 'ppc64le', 'armh'] },
  { name: 'p11', weight: 3, arches: ['x86_64', 'i586', 'aarch64', 'ppc64le'] },
  { name: 'p10', weight: 2, arches: ['x86_64', 'i586', 'aarch64', 'ppc64le'] },
  { name: 'c10f2', weight: 1, arches: ['x86_64', 'i586', 'aarch64'] },
];

export const SIM_OWNERS = ['rider', 'lav', 'zerg', 'grenka', 'aris', 'cas', 'ldv', 'vt', 'amakeenk', 'sem', 'glebfm', 'antohami'] as const;

/** Members of @maint / @tester who approve EPERM subtasks. */
export const SIM_APPROVERS = ['mike', 'aris', 'ldv', 'vt', 'shaba'] as const;

const PACKAGES: readonly [name: string, version: string][] = [
  ['pdal', '2.9.3'], ['grass', '8.4.2'], ['qgis', '3.44.7'], ['python3', '3.13.0'], ['libcurl4-gnutls', '8.0'],
  ['gdal', '3.11.4'], ['proj', '9.7.0'], ['geos', '3.14.0'], ['kernel-image-un-def', '6.12.34'], ['gcc14', '14.3.1'],
  ['llvm19', '19.1.7'], ['firefox', '145.0'], ['thunderbird', '140.5.0'], ['rust', '1.91.1'], ['golang', '1.25.4'],
  ['nodejs', '22.21.1'], ['systemd', '257.9'], ['glibc', '2.41'], ['openssl3', '3.5.4'], ['ocaml', '5.3.0'],
  ['ocaml-yojson', '2.2.2'], ['tiny_httpd', '0.19'], ['girar', '2.7.3'], ['apt', '0.5.15lorg2'], ['rpm-build', '4.0.4'],
  ['perl-DBI', '1.647'], ['ruby', '3.4.7'], ['php8.4', '8.4.14'], ['nginx', '1.28.0'], ['postgresql17', '17.6'],
  ['nvidia_glx_libs_580.142', '580.142'], ['mesa', '25.2.6'], ['plasma6-workspace', '6.5.2'], ['gnome-shell', '49.1'],
  ['libreoffice', '25.8.3'], ['vim', '9.1.1850'], ['emacs', '30.2'], ['git', '2.51.2'], ['zstd', '1.5.7'], ['xz', '5.8.1'],
];

const MESSAGES = ['update', 'update {pkg}', '{pkg} {ver}', 'rebuild with new libs', 'security fix', 'fix FTBFS', 'new package', 'backport from sisyphus'];

/** Packages that skip some arches (ExcludeArch / ExclusiveArch), by name prefix. */
const EXCLUDES: readonly [prefix: string, arches: readonly string[]][] = [
  ['nvidia', ['i586', 'aarch64', 'ppc64le', 'armh']],
  ['kernel-image', ['armh']],
  ['firefox', ['i586', 'armh']],
  ['golang', ['ppc64le']],
  ['nodejs', ['armh']],
];

export function archesOf(repo: string): readonly string[] {
  return SIM_REPOS.find((r) => r.name === repo)?.arches ?? ['x86_64', 'i586', 'aarch64'];
}

export function excludedArch(pkg: string | undefined, arch: string): boolean {
  if (!pkg) return false;
  return EXCLUDES.some(([prefix, arches]) => pkg.startsWith(prefix) && arches.includes(arch));
}

/** girar numbers subtasks 100, 200, ... in octal steps of 0100. */
function octalKey(index: number): string {
  return ((index + 1) * 0o100).toString(8);
}

/**
 * A freshly created task (state NEW, never run). `others` are the live tasks, some of which
 * it may depend on.
 */
export function newTask(rng: Rng, id: number, nowMs: number, others: readonly SimTask[]): SimTask {
  const repo = rng.weighted(SIM_REPOS.map((r) => [r.name, r.weight] as const));
  const owner = rng.pick(SIM_OWNERS);
  const count = rng.weighted([[1, 6], [2, 2], [3, 1], [5, 1]] as const);
  const subtasks = new Map<string, SimSubtaskSpec>();
  for (let i = 0; i < count; i++) subtasks.set(octalKey(i), newSubtask(rng, repo, owner, nowMs));
  if (count >= 2 && rng.chance(0.3)) subtasks.set('140', newSubtask(rng, repo, owner, nowMs));
  if (rng.chance(0.06)) subtasks.set(octalKey(count), { userid: owner });

  const first = [...subtasks.values()].find((s) => s.pkgname);
  const task: SimTask = {
    id,
    state: 'NEW',
    repo,
    owner,
    createdMs: nowMs,
    updatedMs: nowMs,
    testOnly: rng.chance(0.15),
    failEarly: rng.chance(0.7),
    swift: rng.chance(0.06),
    shared: rng.chance(0.1),
    depends: [],
    subtasks,
    stateTicks: 0,
  };
  if (rng.chance(0.85)) {
    task.message = rng.pick(MESSAGES).replace('{pkg}', first?.pkgname ?? 'pkg').replace('{ver}', first?.version ?? '1.0');
  }
  const candidates = others.filter((t) => t.repo === repo && t.state !== 'DONE' && t.id < id);
  if (candidates.length > 0 && rng.chance(0.12)) task.depends = [rng.pick(candidates).id];
  return task;
}

function newSubtask(rng: Rng, repo: string, owner: string, nowMs: number): SimSubtaskSpec {
  const [pkg, version] = rng.pick(PACKAGES);
  const userid = rng.chance(0.85) ? owner : rng.pick(SIM_OWNERS);
  const release = `alt${rng.int(1, 3)}`;
  const kind = rng.weighted([['repo', 80], ['srpm', 8], ['copy', 5], ['delete', 7]] as const);
  switch (kind) {
    case 'repo': {
      const dir = rng.chance(0.6) ? `/gears/${pkg[0]}/${pkg}.git` : `/people/${userid}/packages/${pkg}.git`;
      return {
        type: 'repo',
        dir,
        tag_name: `${version}-${release}`,
        tag_id: rng.hex(40),
        tag_author: `${userid} <${userid}@altlinux.org>`,
        fetched: localTime(nowMs),
        ...(repo !== 'sisyphus' && rng.chance(0.2) ? { rebuild_from: 'sisyphus' } : {}),
        pkgname: pkg,
        userid,
        version,
        release,
      };
    }
    case 'srpm':
      return { type: 'srpm', srpm: `${pkg}-${version}-${release}.src.rpm`, pkgname: pkg, userid, version, release };
    case 'copy':
      return { type: 'copy', copy_repo: repo === 'sisyphus' ? 'p11' : 'sisyphus', package: pkg, pkgname: pkg, userid };
    default:
      return { type: 'delete', package: pkg, userid };
  }
}
