/**
 * A suite run as a BullMQ job: what travels to a worker (`RunJob`), its job id,
 * and how a job's return value or failure becomes the run's outcome.
 * @module
 */
import { fromJson, toJson } from '@emlab/core';
import { hashJson } from '../metrics.js';
import { errorOutcome, type RunOutcome, type RunTask } from '../run-one.js';
import type { Suite } from '../suite-schema.js';

/** The data of one run's job. @internal */
export interface RunJob {
  readonly format: 'emlab/run-job';
  readonly formatVersion: 1;
  /** Which submission the job belongs to (resumes reuse it). */
  readonly submission: string;
  readonly suite: Suite;
  /** Directory the suite's relative paths (CSV, BIF, plug-ins) resolve against, on every worker machine. */
  readonly baseDir: string;
  readonly task: RunTask;
}

/** The job id of a run: unique per submission and run, so a run is queued (and recorded) at most once. @internal */
export function runJobId(submission: string, task: RunTask): string {
  return `${submission}-${task.index}`;
}

/** A submission id: the suite's hash, the time and the process (not random: no stream is needed for a name). @internal */
export function newSubmission(suite: Suite): string {
  return `${hashJson(suite).slice(0, 12)}-${Date.now().toString(36)}-${process.pid.toString(36)}`;
}

/** A worker's answer: the outcome as emlab JSON (non-finite numbers kept). @internal */
export function encodeOutcome(o: RunOutcome): string {
  return toJson(o, 0);
}

/** The outcome from a job's return value. @internal */
export function decodeOutcome(value: unknown): RunOutcome {
  return fromJson(String(value), 'job.returnvalue') as RunOutcome;
}

/** Errors a worker throws carry their code in front: `CODE: message`. @internal */
export function failureMessage(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** The outcome of a job that failed for good (crashes beyond the retry budget, a lost worker). @internal */
export function failedOutcome(job: RunJob, failedReason: string | undefined, attempts: number): RunOutcome {
  const reason = failedReason ?? 'the job failed without a reason';
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(reason);
  if (m !== null) return errorOutcome(job.suite, job.task, m[1] as string, m[2] as string, { attempts });
  // BullMQ's own reasons: a worker that stopped renewing its lock too often (killed, or stuck).
  const code = /stalled/i.test(reason) ? 'WORKER_LOST' : 'CRASH';
  return errorOutcome(job.suite, job.task, code, code === 'WORKER_LOST' ? `the run's worker was lost more often than the queue allows (${reason})` : reason, { attempts });
}
