import { MemoryEngine } from '../../src/storage/memory-engine.js';
import { runEngineCompliance } from './compliance.js';

runEngineCompliance('MemoryEngine', async () => ({ engine: new MemoryEngine(), cleanup: async () => {} }));
