# bpf_object(NAME SOURCE [HEADERS...])
# Compiles bpf/<SOURCE> with clang -target bpf against a vmlinux.h generated from the build
# host's BTF (CO-RE relocations make the object load on other kernels), and generates its
# libbpf skeleton <NAME>.skel.h with bpftool. Creates an INTERFACE target bpf_<NAME> whose
# include directory holds the skeleton.
find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
set(BPF_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF of the kernel used to generate vmlinux.h")
set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf-gen)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

if(NOT EXISTS ${BPF_VMLINUX_BTF})
  message(FATAL_ERROR "${BPF_VMLINUX_BTF} not found: the kernel needs CONFIG_DEBUG_INFO_BTF=y (see kconfig/)")
endif()
# vmlinux.h is generated in the directory that builds the BPF objects (custom command
# outputs are only visible to targets of the same directory): call this once there.
function(bpf_generate_vmlinux)
  add_custom_command(
    OUTPUT ${BPF_GEN_DIR}/vmlinux.h
    COMMAND ${BPFTOOL} btf dump file ${BPF_VMLINUX_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${BPF_GEN_DIR}/vmlinux.h.tmp ${BPF_GEN_DIR}/vmlinux.h
    COMMENT "Generating vmlinux.h from ${BPF_VMLINUX_BTF}"
    VERBATIM)
endfunction()

execute_process(COMMAND uname -m OUTPUT_VARIABLE BPF_UNAME_M OUTPUT_STRIP_TRAILING_WHITESPACE)
if(BPF_UNAME_M STREQUAL "x86_64")
  set(BPF_TARGET_ARCH x86)
elseif(BPF_UNAME_M STREQUAL "aarch64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${BPF_UNAME_M})
endif()

function(bpf_object NAME SOURCE)
  set(obj ${BPF_GEN_DIR}/${NAME}.bpf.o)
  set(skel ${BPF_GEN_DIR}/${NAME}.skel.h)
  get_filename_component(src ${SOURCE} ABSOLUTE)
  file(GLOB bpf_headers ${CMAKE_SOURCE_DIR}/bpf/*.h)
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror -I${BPF_GEN_DIR} -I${CMAKE_SOURCE_DIR}/bpf -c ${src} -o ${obj}
    DEPENDS ${src} ${bpf_headers} ${BPF_GEN_DIR}/vmlinux.h
    COMMENT "BPF ${NAME}.bpf.o"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${NAME}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${NAME}.skel.h"
    VERBATIM)
  add_custom_target(bpf_${NAME}_skel DEPENDS ${skel})
  add_library(bpf_${NAME} INTERFACE)
  target_include_directories(bpf_${NAME} INTERFACE ${BPF_GEN_DIR} ${CMAKE_SOURCE_DIR}/bpf)
  add_dependencies(bpf_${NAME} bpf_${NAME}_skel)
endfunction()
