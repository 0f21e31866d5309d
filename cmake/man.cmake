# Builds the man page moonwire.1 from docs/cli.md with pandoc: the NAME section
# (cmake/moonwire.1.md) first, then cli.md without its title, its `##` sections as `.SH`.
# -DCLI=docs/cli.md -DHEAD=cmake/moonwire.1.md -DOUT=build/moonwire.1 -DPANDOC=... -DVERSION=...
file(READ ${CLI} cli)
string(REGEX REPLACE "^# [^\n]*\n" "" cli "${cli}")
file(READ ${HEAD} head)
string(REGEX REPLACE "\n## SEE ALSO.*" "" name "${head}")
string(REGEX MATCH "## SEE ALSO.*" see "${head}")
# Links: to the other pages (testing.md, ...) they name files of the installed docs; links
# within the page become their text.
string(REGEX REPLACE "\\[([a-z.-]+\\.md)\\]\\([a-z.-]+\\.md(#[^)]*)?\\)" "\\1" cli "${cli}")
string(REGEX REPLACE "\\[([^]]*)\\]\\(([a-z.-]+\\.md)(#[^)]*)?\\)" "\\1 (\\2)" cli "${cli}")
string(REGEX REPLACE "\\[([^]]*)\\]\\(#[^)]*\\)" "\\1" cli "${cli}")
file(WRITE ${OUT}.md "${name}\n\n## SYNOPSIS\n${cli}\n${see}")
execute_process(
  COMMAND ${PANDOC} -s -t man --shift-heading-level-by=-1 -M title=MOONWIRE -M section=1
          "-M" "header=moonwire manual" "-M" "footer=moonwire ${VERSION}" -M date=
          ${OUT}.md -o ${OUT}.tmp
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pandoc failed (${rc})")
endif()
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
