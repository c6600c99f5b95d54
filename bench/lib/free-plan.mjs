// Password sign-in CPU against the Workers Free plan's CPU limit, for `npm run bench`: the (i)
// sign-in pair (POST /login with a correct password, and its PBKDF2 floor (j)) read against the
// 10 ms of CPU per request the Free plan allows (the Paid plan: 30 s by default). Why the hash is
// not made to fit, and what was weighed: docs/security.md, "Sign-in CPU and the Workers Free plan".
// workerd on this machine is not Cloudflare's hardware: the verdict is a local measurement; after
// deploying, POST /login's CPU time in the Workers metrics is the one that counts.

/** The Workers Free plan's CPU time per request (and per Durable Object invocation), ms. */
export const FREE_PLAN_CPU_MS = 10;

/**
 * The verdict from the bench's pair results, or null when the sign-in pair was not measured
 * (`--signin-duration 0`): CPU per password sign-in and per PBKDF2, ms, and whether each fits.
 */
export function freePlanCheck(pairResults) {
  const pair = pairResults.signInToPbkdf2;
  if (!pair) return null;
  const signInMs = pair.flow.cpu.serverMsPerRequest;
  const pbkdf2Ms = pair.floor.cpu.serverMsPerRequest;
  return { limitMs: FREE_PLAN_CPU_MS, signInMs, pbkdf2Ms, signInFits: signInMs <= FREE_PLAN_CPU_MS, pbkdf2Fits: pbkdf2Ms <= FREE_PLAN_CPU_MS };
}

/** One line for the console report. */
export function printFreePlan(check) {
  if (check === null) return;
  const over = (ms) => (ms <= check.limitMs ? "fits" : `${(ms / check.limitMs).toFixed(1)}× over`);
  console.log(
    `Password sign-in CPU against the Workers Free plan's ${check.limitMs} ms per request: (i) POST /login ${check.signInMs.toFixed(1)} ms ` +
      `(${over(check.signInMs)}), of which one PBKDF2 (j) ${check.pbkdf2Ms.toFixed(1)} ms (${over(check.pbkdf2Ms)}). ` +
      (check.signInFits ? "Fits the Free plan here." : "Password sign-in needs the Paid plan (README; docs/security.md)."),
  );
}
