// Docker HEALTHCHECK: GET /health/live on this container's own port.
// PORT defaults follow docs/conventions.md so the check works without PORT set.
const DEFAULT_PORTS = {
  gateway: 3000,
  orchestrator: 3001,
  'ai-router': 3002,
  'tool-runner': 3003,
  'git-service': 3004,
  analytics: 3005,
  backup: 3006,
};

const port = process.env.PORT || DEFAULT_PORTS[process.env.SERVICE ?? ''];
if (!port) {
  console.error(`healthcheck: no PORT and unknown SERVICE "${process.env.SERVICE ?? ''}"`);
  process.exit(1);
}

try {
  const res = await fetch(`http://127.0.0.1:${port}/health/live`, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`healthcheck: /health/live answered ${res.status}`);
    process.exit(1);
  }
} catch (err) {
  console.error(`healthcheck: /health/live unreachable: ${err.message}`);
  process.exit(1);
}
