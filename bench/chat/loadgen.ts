/**
 * A load generator process: one `LoadGroup` (load.ts), driven by the runner over IPC. Started by
 * the runner pinned to the load core; `--plan=<json>` is its `LoadPlan`. Requests: `connect`,
 * `rate` (messages/s per connection, 0 stops), `window-start`, `window-end` (the window's stats),
 * `tally` (the correctness counters so far), `faults` (crashes per second, 0 stops), `mark` (a
 * failover's kill time) and `failover` (per-room recovery, acked messages lost, drops by port), `close`. It
 * reports its deliveries every second as a `progress` event, and exits when the runner goes away
 * or after an hour at most.
 */
import { emit, type Request, serveRequests } from './ipc.js';
import { LoadGroup, type LoadPlan } from './load.js';

const planArg = process.argv.find((a) => a.startsWith('--plan='));
if (planArg === undefined) {
  console.error('loadgen: --plan=<json> is required (the runner starts this process)');
  process.exit(2);
}
const group = new LoadGroup(JSON.parse(planArg.slice('--plan='.length)) as LoadPlan);

const progress = setInterval(() => emit('progress', { delivered: group.delivered }), 1000);
progress.unref();

async function handle(r: Request): Promise<unknown> {
  switch (r.cmd) {
    case 'connect':
      return group.connect(r.timeoutMs as number);
    case 'rate':
      group.setRate(r.perConn as number);
      return true;
    case 'window-start':
      group.windowStart();
      return true;
    case 'window-end':
      return group.windowEnd();
    case 'tally':
      return group.tally;
    case 'mark':
      group.mark(r.atNs as number);
      return true;
    case 'failover':
      return { recovery: group.recovery(), ackedLost: group.ackedLost(), dropped: group.droppedByPort() };
    case 'faults':
      group.startFaults(r.perSecond as number);
      return true;
    case 'close':
      group.close();
      // Let the close frames go out, then leave.
      setTimeout(() => process.exit(0), 300).unref();
      return true;
    default:
      throw new Error(`unknown request ${r.cmd}`);
  }
}

serveRequests(handle, 3_600_000);
