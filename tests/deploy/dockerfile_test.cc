// The top-level Dockerfile, read statically (no container engine runs
// here): the build stage installs the packages before it copies the
// sources; the image is labelled with the binary's version; the runtime
// stage installs exactly the packages of the shared libraries the binary
// links; the build context leaves out what git ignores.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/command.h"
#include "tests/support/process.h"

namespace streamshift::testing {
namespace {

struct Instruction {
  std::string keyword;  // FROM, RUN, COPY, ...
  std::string args;     // continuation lines joined
};

struct Stage {
  std::vector<Instruction> instructions;
};

std::vector<Stage> dockerfile_stages() {
  std::vector<Stage> stages;
  std::istringstream in(read_source("Dockerfile"));
  std::string line, logical;
  auto flush = [&] {
    size_t space = logical.find(' ');
    Instruction i{logical.substr(0, space),
                  space == std::string::npos ? "" : logical.substr(space + 1)};
    if (i.keyword == "FROM") stages.emplace_back();
    if (!stages.empty()) stages.back().instructions.push_back(i);
    logical.clear();
  };
  while (std::getline(in, line)) {
    if (logical.empty() && (line.empty() || line[0] == '#')) continue;
    bool continued = !line.empty() && line.back() == '\\';
    logical += continued ? line.substr(0, line.size() - 1) : line;
    if (!continued) flush();
  }
  EXPECT_EQ(stages.size(), 2u) << "a build stage and a runtime stage";
  return stages;
}

TEST(Dockerfile, TheBuildStageInstallsThePackagesBeforeItCopiesTheSources) {
  std::vector<Stage> stages = dockerfile_stages();
  ASSERT_FALSE(stages.empty());
  const std::vector<Instruction>& build = stages[0].instructions;
  size_t deps = build.size(), sources = build.size();
  for (size_t i = 0; i < build.size(); ++i) {
    if (build[i].keyword == "RUN" && build[i].args.find("setup-deps.sh build") != std::string::npos)
      deps = std::min(deps, i);
    if (build[i].keyword == "COPY" && build[i].args.rfind(". ", 0) == 0)
      sources = std::min(sources, i);
  }
  ASSERT_LT(deps, build.size()) << "no RUN of scripts/setup-deps.sh build";
  ASSERT_LT(sources, build.size()) << "no COPY of the sources";
  EXPECT_LT(deps, sources) << "a change to any source would reinstall the toolchain";
  // Before the packages are installed, only the script that installs them
  // is in the image: nothing else can invalidate that layer.
  for (size_t i = 0; i < deps; ++i) {
    if (build[i].keyword == "COPY") {
      EXPECT_EQ(build[i].args, "scripts/setup-deps.sh scripts/");
    }
  }
}

TEST(Dockerfile, TheImageCarriesOciLabelsWithTheBinarysVersion) {
  std::vector<Stage> stages = dockerfile_stages();
  ASSERT_EQ(stages.size(), 2u);
  std::string labels, version_arg;
  for (const Instruction& i : stages[1].instructions) {
    if (i.keyword == "LABEL") labels += i.args + " ";
    std::smatch m;
    if (i.keyword == "ARG" && std::regex_match(i.args, m, std::regex(R"(VERSION=(\S+))")))
      version_arg = m[1];
  }
  for (const char* key : {"title", "description", "version", "revision"})
    EXPECT_NE(labels.find(std::string("org.opencontainers.image.") + key + "="), std::string::npos)
        << key;
  EXPECT_NE(labels.find("org.opencontainers.image.version=\"${VERSION}\""), std::string::npos);

  CommandOutput out = run_command(streamshift_binary() + " --version");
  ASSERT_EQ(out.status, 0);
  EXPECT_EQ("streamshift " + version_arg + "\n", out.text);
  // The tag the manifests and the build command use.
  for (const char* file : {"deploy/k8s/base/app-deployment.yaml",
                           "deploy/k8s/base/relay-deployment.yaml", "Dockerfile"})
    EXPECT_NE(read_source(file).find("streamshift:" + version_arg), std::string::npos) << file;
}

// The Debian package that ships a shared library of the build's
// architecture (not its lib32 twin), by its soname.
std::string package_of(const std::string& soname) {
  std::string multiarch = run_command("gcc -print-multiarch").text;
  multiarch.erase(multiarch.find_last_not_of('\n') + 1);
  CommandOutput out =
      run_command("dpkg -S '*/" + multiarch + "/" + soname + "' 2>/dev/null | head -n 1");
  return out.text.substr(0, out.text.find_first_of(":,"));
}

TEST(Dockerfile, TheRuntimeStageInstallsThePackagesOfEveryLibraryTheBinaryLinks) {
  ASSERT_TRUE(have_command("readelf")) << "readelf is missing: install Debian's binutils";
  ASSERT_TRUE(have_command("dpkg")) << "dpkg is missing: the build runs on Debian";
  std::vector<Stage> stages = dockerfile_stages();
  ASSERT_EQ(stages.size(), 2u);
  std::set<std::string> installed;
  for (const Instruction& i : stages[1].instructions) {
    size_t at = i.args.find("apt-get install");
    if (i.keyword != "RUN" || at == std::string::npos) continue;
    std::istringstream words(i.args.substr(at, i.args.find("&&", at) - at));
    for (std::string w; words >> w;)
      if (w.rfind("lib", 0) == 0) installed.insert(w);
  }

  CommandOutput elf = run_command("readelf -d " + streamshift_binary());
  ASSERT_EQ(elf.status, 0);
  // In bookworm-slim already, or the sanitizer build's own runtimes.
  const std::set<std::string> present = {"libc6",    "libstdc++6", "libgcc-s1",
                                         "libasan8", "libubsan1",  "libtsan2"};
  std::set<std::string> needed;
  std::regex soname(R"(\(NEEDED\)\s+Shared library: \[([^\]]+)\])");
  for (std::sregex_iterator it(elf.text.begin(), elf.text.end(), soname), end; it != end; ++it) {
    std::string package = package_of((*it)[1]);
    EXPECT_FALSE(package.empty()) << "no package ships " << (*it)[1];
    if (!package.empty() && present.count(package) == 0) needed.insert(package);
  }
  EXPECT_GE(needed.size(), 3u) << elf.text;
  EXPECT_EQ(installed, needed) << "the runtime stage's apt-get install";
}

TEST(Dockerfile, TheBuildContextLeavesOutWhatGitIgnores) {
  std::string dockerignore = "\n" + read_source(".dockerignore");
  std::istringstream gitignore(read_source(".gitignore"));
  int entries = 0;
  for (std::string line; std::getline(gitignore, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::string entry = line[0] == '/' ? line.substr(1) : line;
    EXPECT_NE(dockerignore.find("\n" + entry + "\n"), std::string::npos) << entry;
    ++entries;
  }
  EXPECT_GE(entries, 1);
}

}  // namespace
}  // namespace streamshift::testing
