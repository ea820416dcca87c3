"""Declares the third-party repositories of libp2p_pubsub, all from Debian packages (see tools/setup.sh).

A workspace that depends on libp2p_pubsub calls `libp2p_pubsub_repositories()` from its WORKSPACE after
declaring the `libp2p_pubsub` repository itself; each repository below is skipped when the caller already
declared one of that name.
"""

_RULES_CC_DEFS = '''
"""Forwards the rules_cc entry points to Bazel's native rules (Debian's rules_cc does not load in Bazel 4)."""

def cc_library(**kwargs):
    native.cc_library(**kwargs)

def cc_binary(**kwargs):
    native.cc_binary(**kwargs)

def cc_test(**kwargs):
    native.cc_test(**kwargs)

def cc_import(**kwargs):
    native.cc_import(**kwargs)

def cc_proto_library(**kwargs):
    native.cc_proto_library(**kwargs)

def objc_library(**kwargs):
    native.objc_library(**kwargs)

def cc_toolchain(**kwargs):
    native.cc_toolchain(**kwargs)

def cc_toolchain_suite(**kwargs):
    native.cc_toolchain_suite(**kwargs)
'''

_COVERAGE_BUILD = '''
# `bazel test` resolves these targets; they are never run because this project does not use `bazel coverage`.
package(default_visibility = ["//visibility:public"])

sh_binary(name = "coverage_report_generator", srcs = ["unavailable.sh"])

sh_binary(name = "lcov_merger", srcs = ["unavailable.sh"])

filegroup(name = "coverage_output_generator", srcs = ["unavailable.sh"])
'''

_UNAVAILABLE_SH = '''#!/bin/sh
echo "coverage tools are not available in this offline build" >&2
exit 1
'''

def _files_repository_impl(ctx):
    for path, content in ctx.attr.files.items():
        ctx.file(path, content, executable = path.endswith(".sh"))

_files_repository = repository_rule(
    implementation = _files_repository_impl,
    attrs = {"files": attr.string_dict(mandatory = True)},
    doc = "A repository made of the given files, written in place (no download).",
)

def _maybe(rule, name, **kwargs):
    if not native.existing_rule(name):
        rule(name = name, **kwargs)

def libp2p_pubsub_repositories():
    """Declares every repository the libp2p_pubsub targets load or depend on."""
    _maybe(
        _files_repository,
        name = "rules_cc",
        files = {
            "WORKSPACE": 'workspace(name = "rules_cc")\n',
            "BUILD": "",
            "cc/BUILD": "",
            "cc/defs.bzl": _RULES_CC_DEFS,
        },
    )
    _maybe(
        native.local_repository,
        name = "rules_java",
        path = "/usr/share/bazel/rules/java",
    )
    _maybe(
        _files_repository,
        name = "remote_coverage_tools",
        files = {
            "WORKSPACE": 'workspace(name = "remote_coverage_tools")\n',
            "BUILD": _COVERAGE_BUILD,
            "unavailable.sh": _UNAVAILABLE_SH,
        },
    )
    _maybe(
        native.new_local_repository,
        name = "libevent",
        path = "/usr",
        build_file = str(Label("//third_party:libevent.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "boringssl",
        path = "/usr",
        build_file = str(Label("//third_party:boringssl.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "secp256k1",
        path = "/usr",
        build_file = str(Label("//third_party:secp256k1.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "libsodium",
        path = "/usr",
        build_file = str(Label("//third_party:libsodium.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "nlohmann_json",
        path = "/usr",
        build_file = str(Label("//third_party:nlohmann_json.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "zlib",
        path = "/usr",
        build_file = str(Label("//third_party:zlib.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "com_google_protobuf",
        path = "/usr",
        build_file = str(Label("//third_party:protobuf.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "com_google_googletest",
        path = "/usr",
        build_file = str(Label("//third_party:googletest.BUILD")),
    )
    _maybe(
        native.new_local_repository,
        name = "com_github_google_benchmark",
        path = "/usr",
        build_file = str(Label("//third_party:benchmark.BUILD")),
    )
