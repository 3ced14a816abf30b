import { savedDiagnosisPrefix, savedDiagnosisRetentionMs } from '../diagnosis/diagnose';
import type { Logger } from '../log';
import type { Job, Store } from '../store/store';
import type { RequestServices } from './services';

export interface JobRunnerOptions {
  store: Store;
  requests: RequestServices;
  logger: Logger;
  now: () => Date;
  /** How long a claimed job is this instance's before another may take it over. */
  leaseMs?: number;
  /** After this many failed attempts a job is closed with its last error. */
  maxAttempts?: number;
  /** How long a request sits executing or approved before a job pass settles it. */
  staleAfterMs?: number;
}

/** How long an activity id is remembered to recognise a redelivery (Teams retries after ~15 s). */
export const processedActivityRetentionMs = 24 * 3_600_000;

/** Runs due jobs; every instance runs one, and the store hands each job to one of them. */
export class JobRunner {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private readonly leaseMs: number;
  private readonly staleAfterMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: JobRunnerOptions) {
    this.staleAfterMs = options.staleAfterMs ?? 2 * 60_000;
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** Claims and runs what is due now; resolves with how many jobs ran. */
  runDue(): Promise<number> {
    // One pass at a time per instance; a tick during a pass joins it.
    this.running ??= this.pass().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async pass(): Promise<number> {
    // A request an instance left executing or approved (it died, or its connection lingered past
    // start-up) is settled here too, once it has been still for a while.
    await this.options.requests.execution.reconcile({ staleForMs: this.staleAfterMs }).catch((error: unknown) =>
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'reconcile pass failed'));
    // Teams redelivers an unanswered activity within seconds; ids older than a day are only weight.
    await this.options.store.pruneProcessedActivities(new Date(this.options.now().getTime() - processedActivityRetentionMs)).catch((error: unknown) =>
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'pruning processed activities failed'));
    // A diagnosis is kept for the end user's "ask IT"; past its retention it is only personal data.
    await this.options.store.pruneSettings(savedDiagnosisPrefix, new Date(this.options.now().getTime() - savedDiagnosisRetentionMs)).catch((error: unknown) =>
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'pruning saved diagnoses failed'));
    let ran = 0;
    for (;;) {
      const jobs = await this.options.store.claimDueJobs(this.options.now(), this.leaseMs);
      if (jobs.length === 0) return ran;
      for (const job of jobs) {
        await this.runOne(job);
        ran++;
      }
    }
  }

  private async runOne(job: Job): Promise<void> {
    const { requests: { notification, execution, exceptions }, store, logger } = this.options;
    try {
      if (job.kind === 'request.expire') await notification.expire(job.requestId);
      else if (job.kind === 'request.remind') await notification.remind(job.requestId);
      else if (job.kind === 'request.revert') await execution.revert(job.requestId);
      else if (job.kind === 'exception.remind') await exceptions.remind(job.requestId);
      else if (job.kind === 'request.recheck') await execution.recheckLateWrite(job.requestId);
      else if (job.kind === 'request.verify') await execution.verifyLater(job.requestId);
      await store.finishJob(job.id);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      logger.warn({ jobId: job.id, kind: job.kind, requestId: job.requestId, attempt: job.attempts, err: message }, 'job failed');
      // Left claimed, the job is due again when its lease runs out; past the limit it is closed.
      if (job.attempts >= this.maxAttempts) {
        await store.finishJob(job.id, message);
        // A late check that gave up must not leave its card promising one.
        if (job.kind === 'request.recheck') {
          await execution.lateCheckGaveUp(job.requestId, message).catch((failure: unknown) =>
            logger.warn({ jobId: job.id, requestId: job.requestId, err: failure instanceof Error ? failure.message : String(failure) }, 'could not record that the late check gave up'));
        }
      }
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      void this.runDue().catch((error: unknown) => this.options.logger.warn({ err: String(error) }, 'job pass failed'));
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => 0);
  }
}
