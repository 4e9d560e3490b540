/**
 * S4, broadcast to 1,000: 2,000 connections in 2 rooms of 1,000 members, room messages only, 25
 * messages a second in all (each connection 0.0125/s), so 25,000 deliveries a second as in the
 * fixed load, but every message goes to 1,000 sockets: the seed's "p99 latency, broadcast to 1k
 * users". A 3 s warm-up, then three consecutive 4 s windows (quick: 0.5 s, one 1 s window); each figure
 * is the median of the windows', like the fixed load's. Latency is per delivery, send to each
 * member's read, so a message's p99 is its last members'.
 */
import { fixedOutcome, runFixedLoad } from './fixed-load.js';
import { withServer } from './runner.js';
import { atMost, type Figure, ratioAtMost, type Scenario } from './scenario.js';

const LOAD = { connections: 2_000, roomSize: 1_000, dms: false, ratePerConn: 25 / 2_000 } as const;

const figures: Figure[] = [
  { name: 's4-p50-ms', unit: 'ms', better: 'lower', decimals: 2 },
  { name: 's4-p99-ms', unit: 'ms', better: 'lower', decimals: 2, target: ratioAtMost(1.5, '<= 1.5x baseline') },
  { name: 's4-cpu-us-per-delivery', unit: 'us', better: 'lower', decimals: 2 },
  { name: 's4-lost', unit: 'deliveries', better: 'lower', decimals: 0, target: atMost(0, '0') },
];

export const broadcast: Scenario = {
  name: 's4',
  about: '2 rooms of 1,000, room messages only, 25 msg/s (25k deliveries/s), 3 x 4 s windows, medians',
  competitors: ['baseline', 'troupe'],
  figures,
  run(competitor, ctx) {
    const label = `s4 ${competitor}`;
    return withServer(competitor, ctx, {}, async (server) => {
      const result = await runFixedLoad(server, ctx, {
        label,
        warmupS: ctx.quick ? 0.5 : 3,
        windows: ctx.quick ? 1 : 3,
        seconds: ctx.quick ? 1 : 4,
        load: LOAD,
      });
      const out = fixedOutcome('s4', competitor, label, result, LOAD.connections);
      const f = out.figures;
      return {
        ...out,
        figures: {
          's4-p50-ms': f['p50-ms'] as number,
          's4-p99-ms': f['p99-ms'] as number,
          's4-cpu-us-per-delivery': f['cpu-us-per-delivery'] as number,
          's4-lost': f['fixed-lost'] as number,
        },
      };
    });
  },
};
