// Every constant that the C side (native/gluster/), the C++ side (native/node/)
// and the TypeScript (lib/) share, written once. tools/gen-fops.mjs turns it into
// native/gen/shared.h and lib/gen/shared.ts; nothing here is mirrored by hand,
// and test/shared.test.ts fails if a generated file or a compiled value drifts.

/** Value kinds: what crosses the bridge for one fop field (native/bridge.h gj_val_t). */
export const KINDS = ['num', 'str', 'dict', 'iatt', 'loc', 'fd', 'inode', 'data', 'entries',
  'statvfs', 'flock', 'lease', 'checksum', 'locklist', 'opaque'];

/** Events without a reply: notify, and the inode/fd callbacks (xlator_cbks).
 * Each is also the name of the Translator method that receives it. */
export const EVENTS = ['child-up', 'child-down', 'upcall', 'forget', 'release', 'releasedir', 'invalidate'];

/** Log levels of gj_log / native.log, most severe first (GF_LOG_ERROR ... GF_LOG_TRACE). */
export const LOG_LEVELS = ['error', 'warning', 'info', 'debug', 'trace'];

/** Dict value types as JS sees them (lib/types.ts Dict): name, and the DictType member. */
export const DICT_TYPES = [['str', 'Str'], ['int', 'Int'], ['uint', 'Uint'], ['double', 'Double'], ['bin', 'Bin'], ['gfid', 'Gfid']];

/** glujs's own volfile options: never handed to the module as this.options.
 * `native`: the C xlator reads it (its volume_options entry); the others are
 * read by the runtime only (upcall-bricks is written by `glujs filter`). */
export const OPTIONS = [
  { name: 'module', native: true },
  { name: 'handler-timeout', native: true },
  { name: 'watchdog', native: true },
  { name: 'max-pending', native: true },
  { name: 'heap-limit', native: true },
  { name: 'watch', native: true },
  { name: 'spin', native: true },
  { name: 'upcall-bricks', native: false },
];

/** The native answer table's counters (native/gluster/fast.c), in gj_fast_stats_t. */
export const FAST_COUNTERS = [
  ['hits', 'lookups answered ENOENT on the GlusterFS thread'],
  ['entries', 'negative names held'],
  ['dirs', 'directories with an entry'],
  ['invalidations', 'invalidations applied (upcall, JS, child down)'],
  ['learnt', 'negative names added by the learn rule'],
  ['kernel_tier', 'the kernel tier (native/gluster/kernel.c): 0 off, 1 the kernel keeps misses, 2 found names, 3 both'],
  ['kernel_names', 'names the kernel may hold now, as recorded'],
  ['kernel_recorded', 'names recorded since start'],
  ['kernel_invalidations', 'FUSE_NOTIFY_INVAL_ENTRY notifications the kernel applied'],
  ['kernel_not_held', 'notifications for names the kernel no longer held'],
  ['kernel_evicted', 'records forgotten (and invalidated first) beyond the limit or past the learn rule\'s ttl'],
  ['kernel_queued', 'notifications waiting for the notifier thread'],
];
