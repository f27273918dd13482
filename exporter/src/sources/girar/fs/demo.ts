/**
 * Demo mode for the `fs` transport: a generated /tasks tree (100 tasks, ACL lists, a passwd file)
 * in a temporary directory, moved along girar's life cycle by the tree mutator every 1.5 s (divided by the demo speed), and
 * the config block that reads it (with needs_approval working from the generated ACL lists).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoStepMs, type DemoContext, type DemoInstance } from '../../source.js';
import { generateTree } from './generator.js';
import { TreeMutator } from './generator-mutator.js';

export const DEMO_TREE_TASKS = 100;
const STEP_MS = 1500;

export async function demoTree(ctx: DemoContext, tasks = DEMO_TREE_TASKS): Promise<DemoInstance> {
  const root = mkdtempSync(join(tmpdir(), 'buildscope-demo-tasks-'));
  try {
    const tree = generateTree({ root, tasks, seed: 1, now: ctx.clock.now() });
    const mutator = new TreeMutator({ tree, seed: 2, now: () => ctx.clock.now() });
    const timer = setInterval(() => {
      try {
        mutator.step();
        // Archived tasks beyond the generated ones' share are dropped: the tree keeps its size
        // however long the demo runs (at --demo.speed=100 it grew ~45 MB per farm hour).
        mutator.pruneArchive(tasks);
      } catch (err) {
        ctx.log.warn({ err }, 'demo tree mutator step failed');
      }
    }, demoStepMs(ctx, STEP_MS));
    timer.unref();
    ctx.log.debug({ root, tasks }, 'girar demo tree generated');
    return {
      name: 'demo-girar-fs',
      config: {
        transport: 'fs',
        tasks_dir: tree.tasksDir,
        archive_dir: tree.archiveDir,
        passwd_file: tree.passwdFile,
        io_threads: 1,
        acl: { dir: tree.aclDir, default: { maint_group: '@maint', tester_group: '@tester' } },
      },
      url: `file://${tree.tasksDir}`,
      close: async () => {
        clearInterval(timer);
        rmSync(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
