/**
 * The `acl` block of a girar `fs` source: where girar's ACL lists live and the per-repo policy
 * that girar keeps in `/etc/girar/repo/<repo>`. That file is not readable from the NFS mount, so
 * the operator copies its values here (girar.md §6.1).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const DEFAULT_ACL_DIR = '/var/lib/girar/acl';
export const DEFAULT_ACL_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Normalized girar repo (branch) name, e.g. `sisyphus`, `p10`, `c10f2`. */
export const REPO_NAME_PATTERN = '^[a-z0-9][a-z0-9._+-]*$';
/** A girar login (without the `alt_` prefix). */
export const LOGIN_PATTERN = '^[a-z0-9_][a-z0-9._-]*$';
const GROUP_PATTERN = '^@?[a-z0-9_][a-z0-9._-]*$';

const login = () => Type.String({ pattern: LOGIN_PATTERN, errorMessage: 'expected a girar login such as "jdoe" (lowercase, no spaces)' });

/** The policy keys; `withDefaults` false gives the per-repo override form, where a missing key inherits from `default`. */
function policyProperties(withDefaults: boolean) {
  const dflt = (value: unknown) => (withDefaults ? { default: value } : {});
  const logins = (description: string) => Type.Array(login(), { uniqueItems: true, ...dflt([]), description });
  const group = (variable: string) =>
    Type.Union([Type.String({ pattern: GROUP_PATTERN }), Type.Null()], {
      ...dflt(null),
      errorMessage: 'expected a group name such as "@maint" or "maint", or null',
      description: `${variable}: the ACL group name, with or without the leading @; null when the repo has none.`,
    });
  return {
    superusers: logins('GIRAR_REPO_SUPERUSERS: logins allowed everything in this repo. `root` always is.'),
    maint_group: group('GIRAR_ACL_MAINT_GROUP'),
    tester_group: group('GIRAR_ACL_TESTER_GROUP'),
    deny_unlisted: Type.Boolean({
      ...dflt(false),
      description: 'GIRAR_ACL_DENY_UNLISTED: packages missing from list.packages.<repo> are denied instead of open to every maintainer.',
    }),
    users_allowed_unlisted: logins('GIRAR_ACL_USERS_ALLOWED_UNLISTED: logins still allowed unlisted packages when deny_unlisted is set.'),
  };
}

const overrides = policyProperties(false);

export const girarAclPolicySchema = Type.Object(policyProperties(true), {
  additionalProperties: false,
  default: {},
  description: "A repo's ACL policy, as in girar's /etc/girar/repo/<repo>.",
});

export const girarAclRepoOverrideSchema = Type.Object(
  {
    superusers: Type.Optional(overrides.superusers),
    maint_group: Type.Optional(overrides.maint_group),
    tester_group: Type.Optional(overrides.tester_group),
    deny_unlisted: Type.Optional(overrides.deny_unlisted),
    users_allowed_unlisted: Type.Optional(overrides.users_allowed_unlisted),
  },
  { additionalProperties: false, description: 'Keys given here replace those of `default` for this repo; lists are replaced, not merged.' },
);

export const girarAclConfigSchema = Type.Object(
  {
    dir: Type.String({
      minLength: 2,
      pattern: '^/',
      default: DEFAULT_ACL_DIR,
      errorMessage: 'expected an absolute directory path',
      description: "Directory holding girar's list.packages.<repo> and list.groups.<repo> (girar's $ACL_DIR).",
    }),
    max_file_bytes: Type.Integer({
      minimum: 1024,
      maximum: 1024 * 1024 * 1024,
      default: DEFAULT_ACL_MAX_FILE_BYTES,
      description: 'Largest list file read, in bytes. A larger file is not loaded: the previous version stays in use and a problem is reported.',
    }),
    default: girarAclPolicySchema,
    repos: Type.Record(
      Type.String({ pattern: REPO_NAME_PATTERN }),
      girarAclRepoOverrideSchema,
      {
        additionalProperties: false,
        default: {},
        description: 'Per-repo policy overrides, keyed by normalized repo name (e.g. sisyphus, p10).',
      },
    ),
  },
  { additionalProperties: false, description: "girar's ACL lists and per-repo approval policy, for the needs-approval filter." },
);

export type GirarAclConfig = Static<typeof girarAclConfigSchema>;

/** The effective ACL policy of one repo, with group names normalized to `@name`. */
export interface RepoPolicy {
  readonly repo: string;
  /** `root` plus GIRAR_REPO_SUPERUSERS. */
  readonly superusers: ReadonlySet<string>;
  /** `@maint`-style name, or null when the repo has no maint group. */
  readonly maintGroup: string | null;
  readonly testerGroup: string | null;
  readonly denyUnlisted: boolean;
  readonly usersAllowedUnlisted: ReadonlySet<string>;
}

function normalizeGroup(name: string | null | undefined): string | null {
  if (name === null || name === undefined || name === '' || name === '@') return null;
  return name.startsWith('@') ? name : `@${name}`;
}

/** `default` with the repo's overrides laid over it, key by key. */
export function resolvePolicy(config: GirarAclConfig, repo: string): RepoPolicy {
  const base = config.default;
  const over = Object.hasOwn(config.repos, repo) ? config.repos[repo] : undefined;
  return {
    repo,
    superusers: new Set(['root', ...(over?.superusers ?? base.superusers)]),
    maintGroup: normalizeGroup(over?.maint_group !== undefined ? over.maint_group : base.maint_group),
    testerGroup: normalizeGroup(over?.tester_group !== undefined ? over.tester_group : base.tester_group),
    denyUnlisted: over?.deny_unlisted ?? base.deny_unlisted,
    usersAllowedUnlisted: new Set(over?.users_allowed_unlisted ?? base.users_allowed_unlisted),
  };
}

/** Fill defaults and validate an `acl` block; for tests and tools that build one by hand. */
export function parseGirarAclConfig(raw: unknown): GirarAclConfig {
  const value: unknown = Value.Default(girarAclConfigSchema, structuredClone(raw ?? {}));
  const first = Value.Errors(girarAclConfigSchema, value).First();
  if (first) throw new Error(`invalid girar acl config at ${first.path || '/'}: ${first.message}`);
  return value as GirarAclConfig;
}
