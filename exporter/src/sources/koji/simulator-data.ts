/**
 * The Koji simulator's fixed configuration: users, channels, hosts, packages and build targets.
 * Host and channel names follow the recorded fixtures (builder1.example.com, default, createrepo).
 */

export interface SimUser {
  id: number;
  name: string;
  /** USERTYPES: 0 NORMAL, 1 HOST, 2 GROUP. */
  type: 0 | 1 | 2;
  /** Relative share of the random build submissions (0: never submits). */
  submits: number;
}

export interface SimChannel {
  id: number;
  name: string;
  description: string | null;
  comment: string | null;
  enabled: boolean;
}

export interface SimHost {
  id: number;
  userId: number;
  name: string;
  arches: string[];
  capacity: number;
  description: string | null;
  comment: string | null;
  enabled: boolean;
  /** Channel ids the host is in. */
  channels: number[];
  /** Checking in (kojid running); a dead host stops updating update_ts and is not ready. */
  alive: boolean;
  updateUs: number | null;
  nextCheckInMs: number;
}

export interface SimPackage {
  id: number;
  name: string;
  version: string;
  /** Built once as noarch instead of once per arch. */
  noarch: boolean;
}

export interface SimTarget {
  name: string;
  weight: number;
  dist: string;
  buildTag: string;
  buildTagId: number;
  destTagId: number;
}

export const HOST_NAMES = ['builder1.example.com', 'builder2.example.com', 'builder3.example.com', 'builder4.example.com'];

export const USERS: readonly SimUser[] = [
  { id: 1, name: 'kojiadmin', type: 0, submits: 0 },
  { id: 2, name: 'alice', type: 0, submits: 5 },
  { id: 3, name: 'bob', type: 0, submits: 3 },
  { id: 4, name: 'carol', type: 0, submits: 2 },
  { id: 5, name: 'kojira', type: 0, submits: 0 },
  ...HOST_NAMES.map((name, i) => ({ id: 6 + i, name, type: 1 as const, submits: 0 })),
];

export const CHANNELS: readonly SimChannel[] = [
  { id: 1, name: 'default', description: null, comment: null, enabled: true },
  { id: 2, name: 'createrepo', description: null, comment: null, enabled: true },
  { id: 3, name: 'image', description: null, comment: null, enabled: true },
];

export const HOSTS: readonly Omit<SimHost, 'alive' | 'updateUs' | 'nextCheckInMs'>[] = [
  { id: 1, userId: 6, name: 'builder1.example.com', arches: ['x86_64', 'i686'], capacity: 4, description: 'x86 builder', comment: 'rack A', enabled: true, channels: [1, 2] },
  { id: 2, userId: 7, name: 'builder2.example.com', arches: ['aarch64'], capacity: 2, description: 'arm builder', comment: null, enabled: true, channels: [1, 2] },
  { id: 3, userId: 8, name: 'builder3.example.com', arches: ['x86_64', 'i686'], capacity: 4, description: null, comment: null, enabled: true, channels: [1, 3] },
  { id: 4, userId: 9, name: 'builder4.example.com', arches: ['ppc64le'], capacity: 2, description: 'power builder', comment: 'rack B', enabled: true, channels: [1] },
];

const PKG: [string, string, boolean][] = [
  ['bash', '5.2.37', false], ['coreutils', '9.5', false], ['curl', '8.11.1', false], ['gcc', '14.2.1', false], ['git', '2.47.1', false],
  ['glibc', '2.40', false], ['hello', '2.12.1', false], ['kernel', '6.12.5', false], ['openssl', '3.2.2', false], ['perl', '5.40.0', false],
  ['python3.13', '3.13.1', false], ['python-requests', '2.32.3', true], ['rust', '1.83.0', false], ['systemd', '256.10', false],
  ['vim', '9.1.866', false], ['zlib-ng', '2.2.2', false], ['fedora-release', '42', true], ['tzdata', '2024b', true],
];
export const PACKAGES: readonly SimPackage[] = PKG.map(([name, version, noarch], i) => ({ id: i + 1, name, version, noarch }));

export const TARGETS: readonly SimTarget[] = [
  { name: 'f41-candidate', weight: 3, dist: 'fc41', buildTag: 'f41-build', buildTagId: 1, destTagId: 2 },
  { name: 'f42-candidate', weight: 3, dist: 'fc42', buildTag: 'f42-build', buildTagId: 3, destTagId: 4 },
  { name: 'rawhide', weight: 4, dist: 'fc43', buildTag: 'f43-build', buildTagId: 5, destTagId: 6 },
];
