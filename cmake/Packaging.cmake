# Install rules and the Debian package (CPack): what the systemd units and the Kubernetes images
# run. `cmake --install build --prefix /usr` puts the same files in place as the package:
#   /usr/bin/{mw-dispatcher,mw-agent,mw}
#   /usr/lib/systemd/system/{mw-dispatcher,mw-agent}.service
#   /usr/share/doc/microwork/examples/{dispatcher,agent}.toml, copyright
# The package's maintainer scripts add the system user `microwork` and /etc/microwork; its
# state lives in /var/lib/microwork (the units' StateDirectory). tests/package checks the
# package: its contents, lintian, and the units with systemd-analyze against the installed paths.
include(GNUInstallDirs)

install(TARGETS mw-dispatcher mw-agent mw RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES deploy/systemd/mw-dispatcher.service deploy/systemd/mw-agent.service
        DESTINATION lib/systemd/system)
install(FILES deploy/config/dispatcher.toml deploy/config/agent.toml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
# A native package's changelog, compressed without a timestamp so the package is reproducible.
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/packaging/debian/changelog
                OUTPUT_FILE ${CMAKE_BINARY_DIR}/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
install(FILES packaging/debian/copyright ${CMAKE_BINARY_DIR}/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME microwork)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "microwork maintainers <maintainers@microwork.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "impact-sourcing engine: dispatcher, centre agent and mw")
set(CPACK_PACKAGE_DESCRIPTION
    "microwork cuts a client's digital job into microtasks, sends them to delivery\n\
centres, checks the answers by redundancy and pays every worker for every\n\
piece. This package holds mw-dispatcher, mw-agent (the delivery centre's\n\
agent) and mw (the operator's command line), with their systemd units and\n\
example configuration.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends from the libraries the binaries link
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_COMPRESSION_TYPE gzip)  # a test builds it: fast beats small
include(CPack)
