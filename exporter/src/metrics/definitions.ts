/**
 * The one table of every metric the exporter exposes: name, type, unit, labels, buckets and help.
 * Collectors create their prom-client objects from it and `docs/metrics.md` is generated from it;
 * nothing else names a metric.
 */

/** Build-farm durations: half a minute up to two days. */
export const TASK_DURATION_BUCKETS = [30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 172800] as const;

/** One poll of an upstream: 50 ms up to a minute. */
export const POLL_DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60] as const;

/** Scheduled jobs' runs: a second up to a day. */
export const RUN_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400] as const;

/** karajo job status words exported as they are; anything else is `other`, no status (after a resume) `none`. */
export const KARAJO_JOB_STATUSES = ['started', 'running', 'success', 'failed', 'canceled', 'paused', 'none'] as const;

/** Poll interval assumed in HELP texts when the app does not say (the config default). */
export const DEFAULT_REFRESH_SECONDS = 30;

export type MetricType = 'gauge' | 'counter' | 'histogram';

/** `count` = a number of things or events; `boolean` = 0 or 1; `info` = always 1, the labels carry the data; `ratio` = 0..1. */
export type MetricUnit = 'seconds' | 'timestamp_seconds' | 'bytes' | 'ratio' | 'count' | 'boolean' | 'info';

/**
 * How the value changes:
 * `poll`: read from the store or source health at scrape, so it moves only when a source is polled;
 * `transition`: fed by changes the store observed between two polls;
 * `poll_outcome`: fed by the end of every poll (its duration, result, upstream requests);
 * `scrape`: the exporter's own state at scrape time.
 */
export type Freshness = 'poll' | 'transition' | 'poll_outcome' | 'scrape';

export interface MetricDefinition {
  readonly name: string;
  readonly type: MetricType;
  readonly unit: MetricUnit;
  readonly labels: readonly string[];
  /** First sentence(s) of HELP; the freshness sentence is appended by `helpText`. */
  readonly help: string;
  readonly updated: Freshness;
  readonly buckets?: readonly number[];
  /** More detail for docs/metrics.md only (not in HELP). */
  readonly note?: string;
  /**
   * The values are a function of the store's records and of the changes it observed, nothing
   * else (no clock, no source health): `/metrics` reuses the family's exposition text until the
   * store changes. Every `transition` family is one.
   */
  readonly fromStore?: true;
}

/** Arch result words girar and taskoteka use; any other word is exported as `other`. */
export const GIRAR_ARCH_STATUSES: ReadonlySet<string> = new Set(['built', 'cached', 'swept', 'excluded', 'failed', 'new', 'building']);

export const METRICS = {
  tasks: {
    name: 'buildfarm_tasks',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'repo', 'state', 'phase'],
    help: 'Tasks held now, by repo, native state and normalized phase.',
    updated: 'poll',
    fromStore: true,
  },
  taskOldestState: {
    name: 'buildfarm_task_oldest_state_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'kind', 'repo', 'state'],
    help: 'When the oldest task of a queued, running or blocked (repo, state) group entered that state; absent for finished or empty groups.',
    updated: 'poll',
    fromStore: true,
  },
  taskTransitions: {
    name: 'buildfarm_task_transitions_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'kind', 'from_state', 'to_state'],
    help: 'Native state changes of tasks, by previous and new state.',
    updated: 'transition',
    fromStore: true,
  },
  tasksFinished: {
    name: 'buildfarm_tasks_finished_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'kind', 'repo', 'phase'],
    help: 'Tasks seen moving from an unfinished phase to success, failed or canceled, and tasks first seen already finished that the source knows are new since its previous poll (APB); other tasks first seen already finished are not counted.',
    updated: 'transition',
    fromStore: true,
    note: 'A task that is re-run after it finished (e.g. girar FAILED -> AWAITING -> ... -> DONE) counts again when it finishes again. Sources that can tell a task created since their previous poll from one that was only never seen (APB: a build id that was not in the previous listing of a server or farm that had been listed before) count it even when it started and finished between two polls; their durations are then observed from the upstream start and end times.',
  },
  taskDuration: {
    name: 'buildfarm_task_duration_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'kind', 'repo', 'phase'],
    help: 'Time from the start of a run to its end, for tasks seen finishing (girar: from entering BUILDING to DONE, TESTED, SWEPT, FAILED or FAILURE, waits for approval and commit included).',
    updated: 'transition',
    fromStore: true,
    buckets: TASK_DURATION_BUCKETS,
    note: 'A run starts when the task enters one of its kind\'s run-start states (girar: BUILDING; a PENDING -> COMMITTING step does not restart it), or for kinds without them the running phase; leaving a terminal state for more work (girar: TESTED -> PENDING) starts a new run. Start is the upstream start time, else the poll or event that first saw it; a task whose start the exporter did not see (it was already running when first seen, and the upstream does not say) is not observed. Precision is one poll interval unless the upstream reports the times (APB reports both).',
  },
  taskQueueWait: {
    name: 'buildfarm_task_queue_wait_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'kind', 'repo'],
    help: 'Time tasks spent queued before their run started (girar: AWAITING -> BUILDING; the commit queue PENDING -> COMMITTING is not counted).',
    updated: 'transition',
    fromStore: true,
    buckets: TASK_DURATION_BUCKETS,
    note: 'Measured from when the task entered its last queued state (upstream time when known, else the poll that first saw it there; for girar the AWAITING time, not the NEW time) to the poll that saw it running. For a task first seen already running or finished that the source knows is new (APB), from its upstream creation time to its upstream start time.',
  },
  girarArchBuilds: {
    name: 'buildfarm_girar_subtask_arch_builds',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'repo', 'arch', 'status'],
    help: 'Subtask x architecture results of the girar tasks held now, by status word (built, cached, swept, excluded, failed, new, building; an empty word is named by its phase; any other word is other).',
    updated: 'poll',
    fromStore: true,
    note: 'girar leaves the status empty for a failed build and for one still running; such results are exported by their phase as `failed` or `building` (`new` when queued). Kept up to date from task changes, so a scrape costs O(series), not O(tasks).',
  },
  girarArchResults: {
    name: 'buildfarm_girar_arch_results_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'arch', 'status'],
    help: 'Subtask x architecture results that appeared or changed status in girar task updates (not counted when a task is first seen); status as in buildfarm_girar_subtask_arch_builds.',
    updated: 'transition',
    fromStore: true,
  },
  workers: {
    name: 'buildfarm_workers',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'state'],
    help: 'Workers (builders, hosts) held now, by state: busy, idle or down.',
    updated: 'poll',
    fromStore: true,
    note: 'For a source with workers, all three states are present (0 included), so `== 0` and `> 0` alerts work.',
  },
  workerUp: {
    name: 'buildfarm_worker_up',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'kind', 'worker'],
    help: '1 when the worker (build server, host) answered or was reported alive at the latest poll, else 0.',
    updated: 'poll',
    fromStore: true,
    note: 'APB: a server polled directly is up when its `GET /` answered within the source\'s `server_timeout`; a server known only through the farm is up when the farm lists it `online`. A down worker keeps its last known resources in the API, with `lastError` saying why.',
  },
  workerArchInfo: {
    name: 'buildfarm_worker_arch_info',
    type: 'gauge',
    unit: 'info',
    labels: ['source', 'kind', 'worker', 'arch'],
    help: 'Always 1; one series per architecture the worker builds for, to join worker families by arch.',
    updated: 'poll',
    fromStore: true,
    note: 'E.g. running builds per arch: `sum by (source, arch) (buildfarm_worker_running_tasks * on (source, kind, worker) group_left (arch) buildfarm_worker_arch_info)`.',
  },
  workerCapacity: {
    name: 'buildfarm_worker_capacity',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'worker'],
    help: 'Tasks the worker runs at once at most (APB: max_concurrent_builds); absent when the upstream does not say.',
    updated: 'poll',
    fromStore: true,
  },
  workerRunningTasks: {
    name: 'buildfarm_worker_running_tasks',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'worker'],
    help: 'Tasks the worker runs now (APB: current_builds_count).',
    updated: 'poll',
    fromStore: true,
  },
  workerQueuedTasks: {
    name: 'buildfarm_worker_queued_tasks',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'worker'],
    help: 'Tasks queued on the worker itself, waiting for a free slot (APB: queued_builds).',
    updated: 'poll',
    fromStore: true,
  },
  workerCpuCores: {
    name: 'buildfarm_worker_cpu_cores',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'worker'],
    help: 'CPU cores of the worker host.',
    updated: 'poll',
    fromStore: true,
  },
  workerLoad1: {
    name: 'buildfarm_worker_load1',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'worker'],
    help: 'One-minute load average of the worker host; compare with buildfarm_worker_cpu_cores.',
    updated: 'poll',
    fromStore: true,
  },
  workerCpuUsage: {
    name: 'buildfarm_worker_cpu_usage_ratio',
    type: 'gauge',
    unit: 'ratio',
    labels: ['source', 'kind', 'worker'],
    help: 'Share of the worker host\'s CPU time in use (0 to 1), as the upstream sampled it.',
    updated: 'poll',
    fromStore: true,
  },
  workerMemoryUsed: {
    name: 'buildfarm_worker_memory_used_bytes',
    type: 'gauge',
    unit: 'bytes',
    labels: ['source', 'kind', 'worker'],
    help: 'Memory in use on the worker host.',
    updated: 'poll',
    fromStore: true,
  },
  workerMemoryTotal: {
    name: 'buildfarm_worker_memory_total_bytes',
    type: 'gauge',
    unit: 'bytes',
    labels: ['source', 'kind', 'worker'],
    help: 'Memory of the worker host.',
    updated: 'poll',
    fromStore: true,
  },
  workerDiskUsed: {
    name: 'buildfarm_worker_disk_used_bytes',
    type: 'gauge',
    unit: 'bytes',
    labels: ['source', 'kind', 'worker'],
    help: 'Disk space in use on the worker host (APB: the root file system).',
    updated: 'poll',
    fromStore: true,
  },
  workerDiskTotal: {
    name: 'buildfarm_worker_disk_total_bytes',
    type: 'gauge',
    unit: 'bytes',
    labels: ['source', 'kind', 'worker'],
    help: 'Disk space of the worker host (APB: the root file system).',
    updated: 'poll',
    fromStore: true,
  },
  workerLastSeen: {
    name: 'buildfarm_worker_last_seen_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'kind', 'worker'],
    help: 'When the worker last answered, or when the upstream that reports it last heard from it (APB farm: its cached_at); absent before that.',
    updated: 'poll',
    fromStore: true,
  },
  apbServerHealth: {
    name: 'buildfarm_apb_server_health',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'worker', 'status'],
    help: '1 for the status an APB server reported at its latest GET /health (healthy, warning or degraded), 0 for the other two; absent while its health is unknown.',
    updated: 'poll',
    fromStore: true,
    note: 'APB says `degraded` when a check errored or its own answer took over 5 s, which happens while `GET /` blocks its single event loop; alert on it only when it lasts.',
  },
  apbFarmUp: {
    name: 'buildfarm_apb_farm_up',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source'],
    help: '1 when the APB farm answered GET /farm at the latest poll, else 0; only for sources with a farm.',
    updated: 'poll',
  },
  karajoJobStatus: {
    name: 'buildfarm_karajo_job_status',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'karajo_job', 'status'],
    help: "1 for a karajo job's current status (started, running, success, failed, canceled, paused, none after a resume, other), 0 for the rest.",
    updated: 'poll',
    fromStore: true,
    note: 'Every status word is present for every job, so `== 1` and `== 0` both work in alerts. The label is `karajo_job` because Prometheus reserves `job` for the scrape job. An exec and an http job with the same id: the http one is `http:<id>`.',
  },
  karajoJobPaused: {
    name: 'buildfarm_karajo_job_paused',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'karajo_job'],
    help: '1 when the karajo job is paused, else 0.',
    updated: 'poll',
    fromStore: true,
  },
  karajoJobOverdue: {
    name: 'buildfarm_karajo_job_overdue',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'karajo_job'],
    help: "1 when the karajo job's next_run is more than one interval (or schedule period, plus the source's overdue_grace) in the past while it is neither paused nor running, else 0.",
    updated: 'poll',
    fromStore: true,
    note: 'Evaluated at each poll against the exporter clock. A schedule whose period cannot be told (not minutely/hourly/daily/weekly/monthly) counts only overdue_grace.',
  },
  karajoJobLastRun: {
    name: 'buildfarm_karajo_job_last_run_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'karajo_job'],
    help: "When the karajo job's latest run ended (last_run); absent when it never ran.",
    updated: 'poll',
    fromStore: true,
  },
  karajoJobNextRun: {
    name: 'buildfarm_karajo_job_next_run_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'karajo_job'],
    help: "When the karajo job runs next (next_run); absent when it has none (a job run only by its webhook).",
    updated: 'poll',
    fromStore: true,
  },
  karajoRuns: {
    name: 'buildfarm_karajo_runs_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'karajo_job', 'result'],
    help: 'Runs of karajo jobs seen ending, by result (success, failed, canceled); a run number is counted once, also when it started and ended between two polls. Ticks a job skipped while paused are not runs.',
    updated: 'transition',
    fromStore: true,
    note: "karajo numbers each job's runs 1, 2, 3..., so a number above the highest seen is a new run; so is a number that vanished while its run was going (a karajo restart mid-run frees it for the next run). Runs that already existed at the exporter's first poll, and the runs a job brings when it first appears later, are the baseline, not counted. Numbers are tracked per job kind and karajo id, whatever id the job is shown under.",
  },
  karajoRunDuration: {
    name: 'buildfarm_karajo_run_duration_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'karajo_job', 'result'],
    help: 'Run time of karajo job runs whose start and end are known, by result.',
    updated: 'transition',
    fromStore: true,
    buckets: RUN_DURATION_BUCKETS,
    note: "karajo's API gives no start time: a run's start is the poll that first saw it running, and its end the poll that first saw it ended, both on the exporter's clock (karajo's last_run could be skewed against it). A run that started and ended between two polls has no known start and is not observed. Precision: one poll interval.",
  },
  cuirassPendingBuilds: {
    name: 'buildfarm_cuirass_pending_builds',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'repo', 'arch', 'state'],
    help: 'Cuirass builds in its queue now (submitted, scheduled, started), by specification (repo) and system (arch); at most the source\'s queue_limit in all.',
    updated: 'poll',
    fromStore: true,
    note: 'Read from GET /api/queue, which Cuirass caps at 1000 builds: when the sum equals queue_limit the queue is longer than shown.',
  },
  cuirassOldestPending: {
    name: 'buildfarm_cuirass_oldest_pending_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source'],
    help: 'When the oldest Cuirass build still waiting (submitted or scheduled) in the shown part of the queue was created; absent when none waits.',
    updated: 'poll',
    fromStore: true,
  },
  cuirassBuildsCompleted: {
    name: 'buildfarm_cuirass_builds_completed_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'repo', 'arch', 'result'],
    help: 'Cuirass builds seen finishing, by specification (repo), system (arch) and result (succeeded, failed, failed-dependency, failed-other, canceled); a build id is counted once, also when first seen finished if it is new.',
    updated: 'transition',
    fromStore: true,
    note: 'New: an id never listed before and above the first poll\'s highest. A build that leaves the queue unfinished and is in no list is read by id, so its end is counted. /api/latestbuilds is ordered by evaluation, not completion: a build created and finished between two polls in an old evaluation may be missed; a larger latest_limit lowers the chance.',
  },
  cuirassNewFailures: {
    name: 'buildfarm_cuirass_new_failures_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'repo', 'arch'],
    help: "Cuirass builds seen finishing with weather new-failure (the job's previous build succeeded), by specification (repo) and system (arch).",
    updated: 'transition',
    fromStore: true,
  },
  cuirassEvaluationDuration: {
    name: 'buildfarm_cuirass_evaluation_duration_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'repo', 'result'],
    help: 'Time Cuirass evaluations took (evaltime - timestamp, as Cuirass\'s own metrics compute it), by specification (repo) and result (evaluated, evaluation-failed, evaluation-aborted).',
    updated: 'transition',
    fromStore: true,
    buckets: TASK_DURATION_BUCKETS,
  },
  kojiHubUp: {
    name: 'buildfarm_koji_hub_up',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source'],
    help: '1 when the Koji hub answered the latest poll in XML-RPC (a result or a fault), 0 when it did not answer, answered HTTP errors or something other than XML-RPC.',
    updated: 'poll',
  },
  kojiDatabaseUp: {
    name: 'buildfarm_koji_database_up',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source'],
    help: '1 when the Koji hub answered the latest poll without fault 1014 ServerOffline, 0 when it answered 1014 (hub up, database down or hub in lockout); absent while the hub itself does not answer.',
    updated: 'poll',
  },
  kojiTasks: {
    name: 'buildfarm_koji_tasks',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'state', 'method'],
    help: 'Unfinished Koji tasks now (FREE, ASSIGNED, OPEN), by method; the total per state is the hub\'s own count.',
    updated: 'poll',
    note: 'The hub counts each state (listTasks countOnly); the split by method comes from the unfinished tasks the exporter holds, and what they do not explain is `method="other"`, as is every method not in the source\'s `methods` list. Finished states are not counted on the hub (those counts only grow and are slow on a big hub): use `buildfarm_koji_tasks_completed_total`.',
  },
  kojiBuildsInProgress: {
    name: 'buildfarm_koji_builds_in_progress',
    type: 'gauge',
    unit: 'count',
    labels: ['source'],
    help: 'Koji builds in state BUILDING now, as the hub counts them.',
    updated: 'poll',
  },
  kojiRepoQueueLength: {
    name: 'buildfarm_koji_repo_queue_length',
    type: 'gauge',
    unit: 'count',
    labels: ['source'],
    help: 'Active repo regeneration requests on the Koji hub (repo.queryQueue); absent on hubs older than 1.35, which lack the call.',
    updated: 'poll',
  },
  kojiLastEventId: {
    name: 'buildfarm_koji_last_event_id',
    type: 'gauge',
    unit: 'count',
    labels: ['source'],
    help: 'Id of the newest event in the Koji hub\'s database (getLastEvent); it only grows, so a drop means a new or restored database.',
    updated: 'poll',
  },
  kojiLastEventTime: {
    name: 'buildfarm_koji_last_event_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source'],
    help: 'When the newest event in the Koji hub\'s database happened; `time() - this` is how long the hub has seen no tagging, build or host change.',
    updated: 'poll',
  },
  kojiHostReady: {
    name: 'buildfarm_koji_host_ready',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'worker'],
    help: '1 when the Koji host says it is ready for tasks (kojid updates it; false when it is at capacity, short of disk, or not checking in).',
    updated: 'poll',
  },
  kojiHostEnabled: {
    name: 'buildfarm_koji_host_enabled',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'worker'],
    help: '1 when the Koji host is enabled (an admin can disable it; a disabled host gets no tasks).',
    updated: 'poll',
  },
  kojiHostTaskLoad: {
    name: 'buildfarm_koji_host_task_load',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'worker'],
    help: 'The Koji host\'s task load: the summed weights of the tasks it runs, in the units of its capacity.',
    updated: 'poll',
  },
  kojiHostCapacity: {
    name: 'buildfarm_koji_host_capacity',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'worker'],
    help: 'The Koji host\'s capacity, in task weight units (compare with buildfarm_koji_host_task_load).',
    updated: 'poll',
  },
  kojiChannelLoad: {
    name: 'buildfarm_koji_channel_load',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'channel'],
    help: 'Summed task load of the enabled hosts in a Koji channel.',
    updated: 'poll',
    note: 'Channel membership is read every `channels_interval` (listHosts per channel); a host in several channels counts in each.',
  },
  kojiChannelCapacity: {
    name: 'buildfarm_koji_channel_capacity',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'channel'],
    help: 'Summed capacity of the enabled hosts in a Koji channel that checked in within host_stale_after.',
    updated: 'poll',
  },
  kojiChannelHosts: {
    name: 'buildfarm_koji_channel_hosts',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'channel', 'state'],
    help: 'Hosts in a Koji channel by state: ready, not_ready (enabled but not ready) or disabled; all three present for each channel.',
    updated: 'poll',
  },
  kojiTasksCompleted: {
    name: 'buildfarm_koji_tasks_completed_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'method', 'result'],
    help: 'Koji tasks seen finishing, by method and result (CLOSED, FAILED, CANCELED); a task is counted once, also when it started and ended between two polls.',
    updated: 'transition',
    fromStore: true,
    note: 'Counted from the tasks the incremental listings return (created, started or completed after the newest time already seen), so a busy hub is followed as long as one poll\'s changes fit in `page_size` per listing; a full page is continued on the next poll.',
  },
  kojiTaskDuration: {
    name: 'buildfarm_koji_task_duration_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'method', 'channel'],
    help: 'How long finished Koji tasks ran (start_ts to completion_ts), by method and channel.',
    updated: 'transition',
    fromStore: true,
    buckets: RUN_DURATION_BUCKETS,
  },
  kojiTaskQueueWait: {
    name: 'buildfarm_koji_task_queue_wait_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'method', 'channel'],
    help: 'How long Koji tasks waited before a host opened them (create_ts to start_ts), by method and channel.',
    updated: 'transition',
    fromStore: true,
    buckets: RUN_DURATION_BUCKETS,
  },
  kojiBuildsCompleted: {
    name: 'buildfarm_koji_builds_completed_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'result'],
    help: 'Koji builds seen leaving BUILDING, by result (complete, failed, canceled, deleted); each build once.',
    updated: 'transition',
    fromStore: true,
  },
  jobs: {
    name: 'buildfarm_jobs',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'status'],
    help: 'Scheduled jobs held now, by upstream status (paused jobs count as paused, jobs without a status as none).',
    updated: 'poll',
    fromStore: true,
  },
  sourceUp: {
    name: 'buildfarm_source_up',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'kind'],
    help: '1 when the latest poll of the source succeeded, else 0.',
    updated: 'poll',
  },
  sourceLastSuccess: {
    name: 'buildfarm_source_last_success_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'kind'],
    help: 'When the latest successful poll of the source finished; absent before the first success.',
    updated: 'poll',
  },
  sourceLastPoll: {
    name: 'buildfarm_source_last_poll_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'kind'],
    help: 'When the latest poll of the source finished, successful or not; absent before the first poll.',
    updated: 'poll',
  },
  sourcePollInterval: {
    name: 'buildfarm_source_poll_interval_seconds',
    type: 'gauge',
    unit: 'seconds',
    labels: ['source', 'kind'],
    help: 'Configured time between full polls of the source: how often the data of this source is refreshed.',
    updated: 'scrape',
  },
  sourcePollDuration: {
    name: 'buildfarm_source_poll_duration_seconds',
    type: 'histogram',
    unit: 'seconds',
    labels: ['source', 'kind'],
    help: 'Duration of polls of the source, successful or not.',
    updated: 'poll_outcome',
    buckets: POLL_DURATION_BUCKETS,
  },
  sourcePolls: {
    name: 'buildfarm_source_polls_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'kind', 'result'],
    help: 'Finished polls of the source, by result: ok or error.',
    updated: 'poll_outcome',
    note: "Both results are present from a source's first poll on (the other one at 0).",
  },
  sourceConsecutiveFailures: {
    name: 'buildfarm_source_consecutive_failures',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind'],
    help: 'Polls of the source that failed in a row since the latest success.',
    updated: 'poll',
  },
  sourceSkippedRecords: {
    name: 'buildfarm_source_skipped_records',
    type: 'gauge',
    unit: 'count',
    labels: ['source', 'kind', 'reason'],
    help: 'Upstream records the source cannot use now (unreadable, partial or malformed), by reason; each is left out or kept at its last good version.',
    updated: 'poll',
    note: 'girar `fs` reasons: incomplete, mid_write, too_large, not_utf8, symlink_outside, not_a_directory, bad_value, io_error (see the girar source README). APB reasons: bad_value (a listed build or farm server entry of the wrong shape, left out), detail_unavailable (a build whose /build/{id}/status-api read failed keeps its listed state). Only sources that check their records one by one report it.',
  },
  sourceSkippedRecordsTotal: {
    name: 'buildfarm_source_skipped_records_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'kind', 'reason'],
    help: 'Problems found in upstream records since start, by reason; a record that stays broken is counted once, again only when its problem changes.',
    updated: 'poll_outcome',
  },
  sourceStreamConnected: {
    name: 'buildfarm_source_stream_connected',
    type: 'gauge',
    unit: 'boolean',
    labels: ['source', 'kind'],
    help: '1 when the upstream event stream of the source is connected, else 0; only for sources that have a stream.',
    updated: 'scrape',
  },
  sourceUpstreamCache: {
    name: 'buildfarm_source_upstream_cache_timestamp_seconds',
    type: 'gauge',
    unit: 'timestamp_seconds',
    labels: ['source', 'kind'],
    help: 'When the upstream last refreshed its own cache (the time of the response that reported the cache age minus that age, e.g. taskoteka x-cache-age); absent when the upstream does not say.',
    updated: 'poll',
    note: 'The same fact as a point in time, which stays right between polls: the cache age now is `time() - buildfarm_source_upstream_cache_timestamp_seconds`.',
  },
  sourceUpstreamCacheAge: {
    name: 'buildfarm_source_upstream_cache_age_seconds',
    type: 'gauge',
    unit: 'seconds',
    labels: ['source', 'kind'],
    help: 'Age of the upstream\'s own cache as the upstream reported it at the latest successful poll (taskoteka x-cache-age); absent when the upstream does not say.',
    updated: 'poll',
    note: 'As reported, so it is as old as the latest poll; for alerting on the age now prefer `time() - buildfarm_source_upstream_cache_timestamp_seconds`.',
  },
  sourceInfo: {
    name: 'buildfarm_source_info',
    type: 'gauge',
    unit: 'info',
    labels: ['source', 'kind', 'upstream_version'],
    help: 'Always 1; upstream_version is the API version the upstream reported (empty when unknown).',
    updated: 'poll',
  },
  upstreamRequests: {
    name: 'buildfarm_upstream_requests_total',
    type: 'counter',
    unit: 'count',
    labels: ['source', 'code'],
    help: 'HTTP requests the exporter made to upstreams, by HTTP status code, or error / timeout when no answer came.',
    updated: 'poll_outcome',
    note: '`code` is an HTTP status code (100-599), `error` (no answer: connection refused, reset, DNS), `timeout`, `canceled` (the exporter stopped optional work on purpose, e.g. girar detail fetches past their share of the poll deadline), or `other`.',
  },
  exporterBuildInfo: {
    name: 'buildfarm_exporter_build_info',
    type: 'gauge',
    unit: 'info',
    labels: ['version'],
    help: 'Always 1; version is the exporter version.',
    updated: 'scrape',
  },
  exporterStoreTasks: {
    name: 'buildfarm_exporter_store_tasks',
    type: 'gauge',
    unit: 'count',
    labels: [],
    help: 'Tasks held in the exporter store, over all sources.',
    updated: 'scrape',
  },
  exporterEventsLastSeq: {
    name: 'buildfarm_exporter_events_last_seq',
    type: 'gauge',
    unit: 'count',
    labels: [],
    help: 'Sequence number of the latest change event (the SSE id); it only grows. With the journal it continues across restarts; without one (or with a fresh journal) a start begins from its start time in milliseconds, so ids of an earlier run are never reused.',
    updated: 'scrape',
  },
  exporterSseClients: {
    name: 'buildfarm_exporter_sse_clients',
    type: 'gauge',
    unit: 'count',
    labels: [],
    help: 'Server-Sent Events clients connected now.',
    updated: 'scrape',
  },
  exporterScrapeSeries: {
    name: 'buildfarm_exporter_scrape_series',
    type: 'gauge',
    unit: 'count',
    labels: [],
    help: 'Samples in the previous /metrics response (0 before the first).',
    updated: 'scrape',
    note: 'Counts every sample line of the previous response, process metrics included; watch it to catch a label explosion.',
  },
  exporterJournalWriteFailures: {
    name: 'buildfarm_exporter_journal_write_failures_total',
    type: 'counter',
    unit: 'count',
    labels: [],
    help: 'Batches of changes the journal failed to write (disk full, I/O error). Those changes are served and published but kept in memory only until a later write succeeds; the log says why.',
    updated: 'poll_outcome',
  },
  exporterCollectErrors: {
    name: 'buildfarm_exporter_collect_errors_total',
    type: 'counter',
    unit: 'count',
    labels: ['family'],
    help: 'Metric families left out of a /metrics response, or change events not counted, because their collector failed; family is the metric name.',
    updated: 'scrape',
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;
export type LabelName<K extends MetricKey> = (typeof METRICS)[K]['labels'][number];
export type KeyOfType<T extends MetricType> = { [K in MetricKey]: (typeof METRICS)[K]['type'] extends T ? K : never }[MetricKey];

/** Every declared family, in table order. */
export const METRIC_DEFINITIONS: readonly MetricDefinition[] = Object.values(METRICS);

/** Families exempt from the `source` label: the exporter's own state, which belongs to no source. */
export function isSelfMetric(def: MetricDefinition): boolean {
  return def.name.startsWith('buildfarm_exporter_');
}

/**
 * The HELP text of a family: its help plus how fresh the data is.
 * `refresh` is the poll interval in seconds, or a placeholder word for the docs.
 */
export function helpText(def: MetricDefinition, refresh: number | string = DEFAULT_REFRESH_SECONDS): string {
  switch (def.updated) {
    case 'poll':
      return `${def.help} Refreshed every ${refresh} s from the source (the exporter polls on timers; per source see buildfarm_source_poll_interval_seconds).`;
    case 'transition':
      return `${def.help} Counted from changes seen between two polls of the source, every ${refresh} s (per source see buildfarm_source_poll_interval_seconds).`;
    case 'poll_outcome':
      return `${def.help} Updated as each poll of the source ends, every ${refresh} s (per source see buildfarm_source_poll_interval_seconds).`;
    case 'scrape':
      return def.help;
  }
}
