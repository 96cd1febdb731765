// The `ironlb` command's entry: the daemons' heap settings first (tune-heap.ts), then the program.
// A dynamic import: every module a static import names is loaded and compiled before the first
// line of any of them runs, and loading the program's ~2,000 modules grows V8's young generation.
import './tune-heap.ts';

await import('./program.ts');
