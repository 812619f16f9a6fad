// Loaded with `node --import` into the sidecar under soak only: moves its wall clock (Date.now)
// by the offset in $SOAK_CLOCK_FILE on every SIGUSR2, the way a suspend/resume or an NTP step
// would. performance.now() (the monotonic clock) is left alone, as the kernel leaves it.
import { readFileSync } from 'node:fs';

const file = process.env.SOAK_CLOCK_FILE;
if (file !== undefined) {
  const realNow = Date.now.bind(Date);
  let offsetMs = 0;
  Date.now = () => realNow() + offsetMs;
  process.on('SIGUSR2', () => {
    offsetMs = Number(readFileSync(file, 'utf8')) || 0;
  });
}
