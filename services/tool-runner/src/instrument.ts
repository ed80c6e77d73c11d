// main.ts loads this first: tracing must patch pg, ioredis, undici and http before they load.
import { preloadTracing } from '@overskill/observability/preload';

preloadTracing('tool-runner');
