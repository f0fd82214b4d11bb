// SPDX-License-Identifier: Apache-2.0
// An rpm repository's repodata/repomd.xml: each <data> element's <location href>, <checksum>
// and <size> (the createrepo_c format, namespace http://linux.duke.edu/metadata/repo). Read with
// expat, a streaming XML parser (docs/DESIGN.md "Reading repomd.xml").
#pragma once

#include <string_view>
#include <vector>

#include "catsign/repository/listed_files.hpp"

namespace catsign::repository {

// One ListedFile per <data>, path relative to the folder that holds repodata/. Error(malformed),
// naming the line, when the text is not well-formed XML, has a DOCTYPE (so no entity is ever
// declared, let alone expanded), its root is not <repomd> in the repo namespace, a <data> lacks
// or repeats its checksum, location or size, a checksum type is not sha224/256/384/512 (sha1 and
// md5 are refused as too weak to stand for a file), a digest has the wrong length, an href is
// not a plain relative path (or has xml:base), nesting is deeper than 16, or nothing is listed.
std::vector<ListedFile> parse_repomd(std::string_view text);

}  // namespace catsign::repository
