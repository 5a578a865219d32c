# Install: library, headers and the CMake package, so that find_package(Halo) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
set(HALO_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/Halo)

# Installed headers keep their "gcn/graph_layer.h" paths under <prefix>/include/halo, so a user writes
# <halo/halo.h> (the umbrella, include/halo/ in the source) or <halo/gcn/graph_layer.h>; the headers, which
# include each other as "gcn/...", find themselves through include/halo. They need C++17.
target_include_directories(halo_core PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/halo>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(halo_core PUBLIC cxx_std_17)
# The names find_package(Halo) users link, also for a parent project that adds this one as a subdirectory.
add_library(Halo::halo_core ALIAS halo_core)
add_library(Halo::halo ALIAS halo_core)

# ${TORCH_LIBRARIES} mixes imported targets with plain absolute paths (libc10.so). The paths stay in the build
# tree only: in the package, the `torch` target that find_dependency(Torch) re-creates brings the same libraries
# from wherever the consumer's Torch lives.
get_target_property(_halo_link halo_core INTERFACE_LINK_LIBRARIES)
set(_halo_link_exported)
foreach(_item IN LISTS _halo_link)
  if(_item IN_LIST TORCH_LIBRARIES AND IS_ABSOLUTE "${_item}")
    list(APPEND _halo_link_exported "$<BUILD_INTERFACE:${_item}>")
  else()
    list(APPEND _halo_link_exported "${_item}")
  endif()
  # Every target the package references must be created by a find_dependency in HaloConfig.cmake.in.
  string(REGEX MATCHALL "[A-Za-z0-9_]+::[A-Za-z0-9_]+" _targets "${_item}")
  foreach(_target IN LISTS _targets)
    string(REGEX REPLACE "::.*" "" _ns "${_target}")
    if(NOT _ns MATCHES "^(Halo|TBB|nlohmann_json|spdlog|fmt|ZLIB|MPI|METIS)$")
      message(WARNING "halo_core links ${_target}: add a find_dependency for it to cmake/HaloConfig.cmake.in")
    endif()
  endforeach()
endforeach()
set_property(TARGET halo_core PROPERTY INTERFACE_LINK_LIBRARIES "${_halo_link_exported}")

install(TARGETS halo_core EXPORT HaloTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Every header of the library's folders (those that exist), sub-folders included (gcn/kernels/).
foreach(_dir core datasets partition comm sampling gcn pipeline train accel_model)
  file(GLOB_RECURSE _headers CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR}
    ${PROJECT_SOURCE_DIR}/${_dir}/*.h)
  foreach(_header IN LISTS _headers)
    get_filename_component(_subdir ${_header} DIRECTORY)
    install(FILES ${_header} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/halo/${_subdir})
  endforeach()
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/include/halo/halo.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/halo)
install(EXPORT HaloTargets NAMESPACE Halo:: DESTINATION ${HALO_INSTALL_CMAKEDIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/HaloConfig.cmake.in ${PROJECT_BINARY_DIR}/HaloConfig.cmake
  INSTALL_DESTINATION ${HALO_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/HaloConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/HaloConfig.cmake ${PROJECT_BINARY_DIR}/HaloConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/FindMETIS.cmake DESTINATION ${HALO_INSTALL_CMAKEDIR})
