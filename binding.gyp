# The features/glujs xlator: one shared object holding the gluster-facing C
# (native/gluster, native/gen) and the node-facing C++ (native/node). It links
# the private libnode 18 that scripts/setup.sh unpacks into deps/libnode.
{
  "variables": {
    "libnode_dir": "<(module_root_dir)/deps/libnode/usr/lib/x86_64-linux-gnu",
    "glujs_asan%": "<!(echo ${GLUJS_ASAN:-0})",
  },
  "targets": [{
    "target_name": "glujs",
    "sources": [
      "native/gen/fops.c",
      "native/gluster/xlator.c",
      "native/gluster/ops.c",
      "native/gluster/values.c",
      "native/gluster/resolve.c",
      "native/gluster/fast.c",
      "native/gluster/kernel.c",
      "native/gluster/instance.c",
      "native/gluster/support.c",
      "native/node/embed.cc",
      "native/node/napi-util.cc",
      "native/node/convert.cc",
      "native/node/queue.cc",
      "native/node/binding.cc",
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags": ["-Wall", "-Wno-unused-parameter", "-Wno-sign-compare", "-pthread", "-g"],
    "cflags_c": ["-std=gnu11", "-include", "<(module_root_dir)/native/gluster/gf-config.h",
                 "-Wno-unused-function", "-Wno-missing-field-initializers"],
    "cflags_cc": ["-std=gnu++17"],
    "libraries": ["-L<(libnode_dir)", "-lnode", "-lglusterfs", "-luuid", "-Wl,-rpath,<(libnode_dir)", "-pthread"],
    "conditions": [
      ["glujs_asan==1", {
        "cflags": ["-fsanitize=address", "-fno-omit-frame-pointer", "-O1"],
        "ldflags": ["-fsanitize=address"],
      }],
    ],
  }],
}
