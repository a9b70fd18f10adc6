import http from 'node:http';

export interface LoadResult {
  requests: number;
  seconds: number;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

// A closed-loop load generator: `concurrency` keep-alive connections each issue requests
// back to back for `seconds`. Latency percentiles come from every request.
export async function load(
  url: string,
  options: { headers?: Record<string, string>; concurrency: number; seconds: number },
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + options.seconds * 1000;
  const one = () =>
    new Promise<void>((resolve) => {
      const start = performance.now();
      const req = http.get(url, { agent, headers: options.headers }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - start);
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const began = performance.now();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < end) await one();
    }),
  );
  const seconds = (performance.now() - began) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0;
  return {
    requests: latencies.length,
    seconds,
    throughput: latencies.length / seconds,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    errors,
  };
}
