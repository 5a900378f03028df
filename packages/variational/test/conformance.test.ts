// The conformance kit on the hard (classification) E-step: q is one-hot on the most probable component.
import '@emlab/exact';
import { hardEStep } from '@emlab/variational';
import { checkEStep } from '@emlab/testing';

checkEStep(hardEStep(), undefined, {
  inFamily: (q, table) => {
    for (let n = 0; n < q.length; n++) {
      const row = q[n];
      if (row === null || row === undefined) continue;
      const best = (table[n] as readonly number[]).indexOf(Math.max(...(table[n] as readonly number[])));
      if (row[best] !== 1) return `row ${n}: q = [${row.join(', ')}] is not one-hot on the most probable component ${best}`;
    }
    return undefined;
  },
});
