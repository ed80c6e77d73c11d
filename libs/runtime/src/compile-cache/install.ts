import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCompileCache } from './compile-cache';

// A service's main imports this first, before the modules whose compilation it saves.
// OVERSKILL_COMPILE_CACHE_DIR=off starts without it (see runService for the image's warm-up).
const dir = process.env.OVERSKILL_COMPILE_CACHE_DIR || join(tmpdir(), 'overskill-compile-cache');
if (dir !== 'off') installCompileCache({ dir });
