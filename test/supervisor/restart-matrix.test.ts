/**
 * OTP's restart policy as one table, as supervisor_SUITE does: restart type x exit reason ->
 * restarted or not, for each strategy, and which siblings restart with it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExitReason, type RestartType, type StrategyName, supervisor } from 'troupe';
import { settle } from 'troupe/testing';
import { childRef, loggingWorker, newSystem } from './helpers.js';

type ReasonName = 'normal' | 'shutdown' | '{shutdown}' | 'killed' | 'error';

const REASONS: ReasonName[] = ['normal', 'shutdown', '{shutdown}', 'killed', 'error'];

/** OTP: permanent always; transient unless normal/shutdown/{shutdown}; temporary never. */
const RESTARTED: Record<RestartType, Record<ReasonName, boolean>> = {
  permanent: { normal: true, shutdown: true, '{shutdown}': true, killed: true, error: true },
  transient: { normal: false, shutdown: false, '{shutdown}': false, killed: true, error: true },
  temporary: { normal: false, shutdown: false, '{shutdown}': false, killed: false, error: false },
};

/** Which siblings restart with the subject (children: before, subject, after). */
const SIBLINGS: Record<StrategyName, { before: boolean; after: boolean }> = {
  one_for_one: { before: false, after: false },
  one_for_all: { before: true, after: true },
  rest_for_one: { before: false, after: true },
};

describe('restart policy', () => {
  for (const strategy of Object.keys(SIBLINGS) as StrategyName[]) {
    for (const restart of Object.keys(RESTARTED) as RestartType[]) {
      for (const reasonName of REASONS) {
        const restarted = RESTARTED[restart][reasonName];
        it(`${strategy}: a ${restart} child exiting with ${reasonName} is ${restarted ? '' : 'not '}restarted`, async () => {
          const { system } = newSystem();
          const log: string[] = [];
          const mk = (name: string) => loggingWorker({ name, log });
          const sup = await system.start(
            supervisor({
              strategy,
              maxRestarts: 10,
              children: [
                { id: 'before', behavior: mk('before'), args: { name: 'before', log } },
                { id: 'subject', behavior: mk('subject'), args: { name: 'subject', log }, restart },
                { id: 'after', behavior: mk('after'), args: { name: 'after', log } },
              ],
            }),
          );
          const subject = await childRef(sup, 'subject');
          log.length = 0;
          const reasons: Record<Exclude<ReasonName, 'killed' | 'error'>, ExitReason> = {
            normal: 'normal',
            shutdown: 'shutdown',
            '{shutdown}': { shutdown: 'detail' },
          };
          if (reasonName === 'killed') system.kill(subject);
          else if (reasonName === 'error') subject.send({ type: 'throw' });
          else subject.send({ type: 'exit', reason: reasons[reasonName] });
          await settle(system);

          const inits = log.filter((l) => l.startsWith('init '));
          const expected: string[] = [];
          const sib = SIBLINGS[strategy];
          if (restarted) {
            if (sib.before) expected.push('init before');
            expected.push('init subject');
            if (sib.after) expected.push('init after');
          }
          assert.deepEqual(inits, expected);
          assert.equal(subject.alive, restarted, 'the ref stays valid exactly when the child is restarted');
          await system.shutdown();
        });
      }
    }
  }
});
