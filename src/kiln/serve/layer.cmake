kiln_layer(kiln_serve serve kiln_infer)
# cpp-httplib (Debian's build is a shared library; its pkg-config flags carry the ABI defines).
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
target_link_libraries(kiln_serve PUBLIC PkgConfig::HTTPLIB)

# The web page (web/*) is compiled into the binary, so `kiln serve` needs no files beside it and
# the page works offline.
file(GLOB KILN_WEB_FILES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/web/*.html
     ${CMAKE_CURRENT_SOURCE_DIR}/web/*.js ${CMAKE_CURRENT_SOURCE_DIR}/web/*.css)
set(KILN_WEB_CPP ${CMAKE_CURRENT_BINARY_DIR}/generated/web_assets.cpp)
string(REPLACE ";" "|" KILN_WEB_LIST "${KILN_WEB_FILES}")
add_custom_command(
  OUTPUT ${KILN_WEB_CPP}
  COMMAND ${CMAKE_COMMAND} "-DOUT=${KILN_WEB_CPP}" "-DFILES=${KILN_WEB_LIST}"
          -P ${CMAKE_CURRENT_SOURCE_DIR}/src/kiln/serve/embed_web.cmake
  DEPENDS ${KILN_WEB_FILES} ${CMAKE_CURRENT_SOURCE_DIR}/src/kiln/serve/embed_web.cmake
  COMMENT "Embedding the web page"
  VERBATIM)
target_sources(kiln_serve PRIVATE ${KILN_WEB_CPP})
