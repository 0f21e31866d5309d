# `make install` (cmake --install, PREFIX and DESTDIR honoured) and `make deb` (CPack, DEB).
# Installed: bin/moonwire, share/man/man1/moonwire.1 (from docs/cli.md, built with pandoc),
# share/doc/moonwire/ (README + docs/*.md), share/moonwire/types/ (the LuaLS definitions, the
# same files `moonwire --types DIR` writes). Installing never rebuilds everything: only
# `moonwire` and the man page (the Makefile builds them first).
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)
include(GNUInstallDirs)

find_program(PANDOC_PROGRAM pandoc)
set(MW_MAN ${CMAKE_BINARY_DIR}/moonwire.1)
if(PANDOC_PROGRAM)
  add_custom_command(
    OUTPUT ${MW_MAN}
    COMMAND ${CMAKE_COMMAND} -DCLI=${CMAKE_SOURCE_DIR}/docs/cli.md
            -DHEAD=${CMAKE_SOURCE_DIR}/cmake/moonwire.1.md -DOUT=${MW_MAN}
            -DPANDOC=${PANDOC_PROGRAM} -DVERSION=${PROJECT_VERSION}
            -P ${CMAKE_SOURCE_DIR}/cmake/man.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/docs/cli.md ${CMAKE_SOURCE_DIR}/cmake/moonwire.1.md
            ${CMAKE_SOURCE_DIR}/cmake/man.cmake
    COMMENT "Building the man page moonwire.1 (pandoc)")
  add_custom_target(moonwire_man ALL DEPENDS ${MW_MAN})
  install(FILES ${MW_MAN} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "pandoc not found: no man page (tools/install-deps.sh installs it)")
  add_custom_target(moonwire_man)
endif()

install(TARGETS moonwire RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/types/ DESTINATION ${CMAKE_INSTALL_DATADIR}/moonwire/types
        FILES_MATCHING PATTERN "*.lua")

# make deb: build/moonwire_<version>_<arch>.deb. Depends: computed by dpkg-shlibdeps (dpkg-dev)
# from the binary's shared libraries (liblua5.4-0, libc6; Boost, OpenSSL and libstdc++ are
# linked statically, libedit is dlopen'ed by the REPL, hence Recommends).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME moonwire)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "moonwire developers <moonwire@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Lua 5.4 runtime on an event loop: TCP, UDP, TLS, HTTP, WebSocket, files, processes")
set(CPACK_PACKAGE_DESCRIPTION
    "moonwire runs Lua 5.4 scripts as tasks on a Boost.Asio event loop, with modules for\nnetworking (TCP, UDP, TLS, HTTP client and server, WebSocket), JSON, files, processes,\ncrypto and a built-in test runner. Its command line is that of lua.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION interpreters)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libedit2")
include(CPack)
