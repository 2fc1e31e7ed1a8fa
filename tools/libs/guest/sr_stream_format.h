/*
 * Migration stream v2 wire layouts (docs/stream-format.md).  Plain structs with
 * reserved fields and static size checks; the image header is big-endian, everything
 * else native (little-endian on x86).
 */
#ifndef SR_STREAM_FORMAT_H
#define SR_STREAM_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

/* Image header: 24 bytes, big-endian. */
struct sr_ihdr {
    uint64_t marker;
    uint32_t id;
    uint32_t version;
    uint16_t options;
    uint16_t _res1;
    uint32_t _res2;
};
#define IHDR_MARKER   0xffffffffffffffffULL
#define IHDR_ID       0x58454E46U        /* "XENF" */
#define IHDR_VERSION  3
#define IHDR_OPT_BIG_ENDIAN 0x0001
static_assert(sizeof(struct sr_ihdr) == 24, "image header is 24 bytes");

/* Domain header: 16 bytes. */
struct sr_dhdr {
    uint32_t type;
    uint16_t page_shift;
    uint16_t _res1;
    uint32_t xen_major;
    uint32_t xen_minor;
};
#define DHDR_TYPE_X86_PV  1
#define DHDR_TYPE_X86_HVM 2
static_assert(sizeof(struct sr_dhdr) == 16, "domain header is 16 bytes");

/* Record header: 8 bytes; body padded to 8. */
struct sr_rhdr {
    uint32_t type;
    uint32_t length;
};
static_assert(sizeof(struct sr_rhdr) == 8, "record header is 8 bytes");

#define REC_ALIGN_ORDER 3U
#define REC_ALIGN       (1U << REC_ALIGN_ORDER)
#define REC_LENGTH_MAX  (128U << 20)
#define REC_TYPE_OPTIONAL 0x80000000U

#define REC_TYPE_END                      0x00000000U
#define REC_TYPE_PAGE_DATA                0x00000001U
#define REC_TYPE_X86_PV_INFO              0x00000002U
#define REC_TYPE_X86_PV_P2M_FRAMES        0x00000003U
#define REC_TYPE_X86_PV_VCPU_BASIC        0x00000004U
#define REC_TYPE_X86_PV_VCPU_EXTENDED     0x00000005U
#define REC_TYPE_X86_PV_VCPU_XSAVE        0x00000006U
#define REC_TYPE_SHARED_INFO              0x00000007U
#define REC_TYPE_X86_TSC_INFO             0x00000008U
#define REC_TYPE_HVM_CONTEXT              0x00000009U
#define REC_TYPE_HVM_PARAMS               0x0000000AU
#define REC_TYPE_TOOLSTACK                0x0000000BU
#define REC_TYPE_X86_PV_VCPU_MSRS         0x0000000CU
#define REC_TYPE_VERIFY                   0x0000000DU
#define REC_TYPE_CHECKPOINT               0x0000000EU
#define REC_TYPE_CHECKPOINT_DIRTY_PFN_LIST 0x0000000FU
#define REC_TYPE_STATIC_DATA_END          0x00000010U
#define REC_TYPE_X86_CPUID_POLICY         0x00000011U
#define REC_TYPE_X86_MSR_POLICY           0x00000012U

/*
 * Ours, optional (bit 31), numbered far from upstream's optional range, which it fills
 * from 0x80000000 up (docs/stream-format.md, "Checkpoint compression").
 * CHECKPOINT_COMPRESS: the primary's offer on the main stream, the secondary's answer
 * on the back channel.  COMPRESSED_PAGE_DATA: pages of a checkpoint after the first.
 */
#define REC_TYPE_CHECKPOINT_COMPRESS      0x80c00001U
#define REC_TYPE_COMPRESSED_PAGE_DATA     0x80c00002U

/* PAGE_DATA body header, followed by pfn[count] then page contents. */
struct sr_page_data_header {
    uint32_t count;
    uint32_t _res1;
};
static_assert(sizeof(struct sr_page_data_header) == 8, "page data header is 8 bytes");

#define PAGE_DATA_PFN_MASK  0x000fffffffffffffULL
#define PAGE_DATA_TYPE_MASK 0xf000000000000000ULL
#define PAGE_DATA_TYPE_SHIFT 32   /* u32 PFINFO type (nibble at bit 28) << 32 */

/* Page type nibbles (XEN_DOMCTL_PFINFO_* >> 28). */
#define PT_NOTAB   0x0U
#define PT_L1TAB   0x1U
#define PT_L2TAB   0x2U
#define PT_L3TAB   0x3U
#define PT_L4TAB   0x4U
#define PT_LPINTAB 0x8U
#define PT_L1PIN   0x9U
#define PT_L4PIN   0xCU
#define PT_BROKEN  0xDU
#define PT_XALLOC  0xEU
#define PT_XTAB    0xFU

#define MAX_BATCH_SIZE 1024U

/* CHECKPOINT_COMPRESS body: the codecs offered (main stream) or accepted (back channel). */
struct sr_checkpoint_compress {
    uint32_t codecs;              /* CKPT_CODEC_* */
    uint32_t _res1;
};
static_assert(sizeof(struct sr_checkpoint_compress) == 8, "CHECKPOINT_COMPRESS body is 8 bytes");
#define CKPT_CODEC_XOR_RLE 0x1U    /* sr_xor_rle.h */

/*
 * COMPRESSED_PAGE_DATA body: this header, count u64 entries as in PAGE_DATA, one u32
 * descriptor per entry whose type carries data, then the pages' encodings back to back
 * in entry order.
 */
struct sr_compressed_page_data_header {
    uint32_t count;
    uint32_t _res1;
};
static_assert(sizeof(struct sr_compressed_page_data_header) == 8,
              "compressed page data header is 8 bytes");
/* Descriptor: bits 0-15 the encoding's length, bits 16-23 the encoding, 24-31 zero. */
#define CPD_DESC_LEN_MASK   0x0000ffffU
#define CPD_DESC_ENC_SHIFT  16
#define CPD_DESC_ENC_MASK   0x00ff0000U
#define CPD_DESC_RES_MASK   0xff000000U
#define CPD_ENC_RAW         0U     /* the page itself: length 4096 */
#define CPD_ENC_XOR_RLE     1U     /* XOR with the receiver's copy: length 2..4095 */

/* X86_TSC_INFO body. */
struct sr_tsc_info {
    uint32_t mode;
    uint32_t khz;
    uint64_t nsec;
    uint32_t incarnation;
    uint32_t _res1;
};
static_assert(sizeof(struct sr_tsc_info) == 24, "TSC_INFO body is 24 bytes");

/* HVM_PARAMS body. */
struct sr_hvm_params_entry {
    uint64_t index;
    uint64_t value;
};
struct sr_hvm_params {
    uint32_t count;
    uint32_t _res1;
};
static_assert(sizeof(struct sr_hvm_params_entry) == 16, "HVM param entry is 16 bytes");
static_assert(sizeof(struct sr_hvm_params) == 8, "HVM params header is 8 bytes");

/* HVM params upstream's saver sends, in its order (non-zero values only). */
#define HVM_PARAM_STORE_PFN              1
#define HVM_PARAM_PAE_ENABLED            4
#define HVM_PARAM_IOREQ_PFN              5
#define HVM_PARAM_BUFIOREQ_PFN           6
#define HVM_PARAM_VIRIDIAN               9
#define HVM_PARAM_IDENT_PT               12
#define HVM_PARAM_CONSOLE_PFN            17
#define HVM_PARAM_ACPI_IOPORTS_LOCATION  19
#define HVM_PARAM_PAGING_RING_PFN        27
#define HVM_PARAM_MONITOR_RING_PFN       28
#define HVM_PARAM_SHARING_RING_PFN       29
#define HVM_PARAM_IOREQ_SERVER_PFN       32
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES  33
#define HVM_PARAM_VM_GENERATION_ID_ADDR  34
#define HVM_PARAM_X87_FIP_WIDTH          36
#define HVM_PARAM_VM86_TSS_SIZED         37
#define HVM_PARAM_MCA_CAP                38
#define HVM_NR_PARAMS                    64   /* restorer bound on indexes */

/* Upper bounds the restorer applies before allocating. */
#define HVM_CONTEXT_MAX  (1U << 20)


/* ---- x86 PV records ------------------------------------------------------------------ */

/* X86_PV_INFO body: 8 bytes.  Width 8 goes with 4 levels, width 4 with 3 (PAE). */
struct sr_x86_pv_info {
    uint8_t guest_width;
    uint8_t pt_levels;
    uint8_t _res1;
    uint8_t _res2;
    uint32_t _res3;
};
static_assert(sizeof(struct sr_x86_pv_info) == 8, "X86_PV_INFO body is 8 bytes");

/* X86_PV_P2M_FRAMES body header, followed by the pfns (u64) of the pages that hold the
 * guest's p2m, covering p2m entries start_pfn..end_pfn. */
struct sr_x86_pv_p2m_frames {
    uint32_t start_pfn;
    uint32_t end_pfn;
};
static_assert(sizeof(struct sr_x86_pv_p2m_frames) == 8, "P2M_FRAMES header is 8 bytes");

/* X86_PV_VCPU_{BASIC,EXTENDED,XSAVE,MSRS} body header, followed by the blob. */
struct sr_x86_pv_vcpu_hdr {
    uint32_t vcpu_id;
    uint32_t _res1;
};
static_assert(sizeof(struct sr_x86_pv_vcpu_hdr) == 8, "PV vcpu record header is 8 bytes");

/* Bounds a receiver applies to the blobs (the restorer's checks). */
#define PV_VCPU_EXTENDED_MAX 128U
#define PV_VCPU_XSAVE_MIN    16U      /* xcr0 and xcr0_accum before the xsave area */
#define PV_VCPU_MSR_SIZE     16U      /* u32 index, u32 reserved, u64 value */

/*
 * The x86-64 PV vcpu context (Xen's vcpu_guest_context, 64-bit layout: the BASIC blob).
 * Only the fields that hold machine frame numbers, which a saver rewrites to pfns and a
 * restorer back to mfns, are named; the rest travels untouched.
 */
struct sr_x86_64_pv_vcpu_ctx {
    uint8_t fpu_ctxt[512];
    uint64_t flags;                 /* VGCF_*: SR_PV_VGCF_ONLINE */
    uint64_t regs_r15_to_rcx[12];   /* user_regs: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx */
    uint64_t rdx;                   /* vcpu 0 after a suspend: the start info frame */
    uint8_t regs_rest[96];          /* rsi rdi ... gs */
    uint8_t trap_ctxt[256 * 16];
    uint64_t ldt_base, ldt_ents;
    uint64_t gdt_frames[16];
    uint64_t gdt_ents;
    uint64_t kernel_ss, kernel_sp;
    uint64_t ctrlreg[8];            /* cr3: kernel page table base (mfn << 12); cr1: user one */
    uint64_t debugreg[8];
    uint64_t callbacks_and_bases[7]; /* event, failsafe, syscall eip; vm_assist; fs/gs bases */
};
static_assert(sizeof(struct sr_x86_64_pv_vcpu_ctx) == 5168, "x86-64 PV vcpu context is 5168 bytes");
static_assert(offsetof(struct sr_x86_64_pv_vcpu_ctx, flags) == 512, "vcpu ctx flags");
static_assert(offsetof(struct sr_x86_64_pv_vcpu_ctx, rdx) == 616, "vcpu ctx rdx");
static_assert(offsetof(struct sr_x86_64_pv_vcpu_ctx, gdt_frames) == 4832, "vcpu ctx gdt_frames");
static_assert(offsetof(struct sr_x86_64_pv_vcpu_ctx, gdt_ents) == 4960, "vcpu ctx gdt_ents");
static_assert(offsetof(struct sr_x86_64_pv_vcpu_ctx, ctrlreg) == 4984, "vcpu ctx ctrlreg");
#define SR_PV_VGCF_ONLINE          (1ULL << 5)
#define SR_PV_CR1_VALID            1ULL    /* stream only: cr1 holds a user page table pfn */
#define SR_PV_GDT_ENTS_MAX         7168U   /* entries below Xen's reserved GDT part */
#define SR_PV_GDT_ENTS_PER_FRAME   512U

/* x86-64 page table entries: present, PSE (a superpage in an L2/L3 entry), the frame. */
#define SR_PTE_PRESENT     0x1ULL
#define SR_PTE_PSE         0x80ULL
#define SR_PTE_FRAME_MASK  0x000ffffffffff000ULL
/* L4 slots [256, 272) map Xen itself in every 64-bit PV guest (Xen's virtual range
 * 0xffff800000000000..0xffff87ffffffffff); the restoring Xen writes its own. */
#define SR_PV_L4_XEN_FIRST 256U
#define SR_PV_L4_XEN_END   272U


/*
 * The head of a 64-bit PV guest's start info page (Xen's start_info).  At a suspend the
 * guest passes this page's frame in vcpu 0's rdx and has turned store_mfn and the
 * console frame into pfns; a restorer turns them into the new mfns, names the new event
 * channels and shared info, and the guest's resume path reads them.
 */
struct sr_x86_64_start_info {
    char magic[32];                 /* "xen-<version>-<platform>" */
    uint64_t nr_pages;
    uint64_t shared_info;           /* machine address of the shared info page */
    uint32_t flags;
    uint32_t _pad1;
    uint64_t store_mfn;
    uint32_t store_evtchn;
    uint32_t _pad2;
    uint64_t console_mfn;           /* console.domU.mfn */
    uint32_t console_evtchn;        /* console.domU.evtchn */
    uint32_t _pad3;
};
static_assert(offsetof(struct sr_x86_64_start_info, nr_pages) == 32, "start info nr_pages");
static_assert(offsetof(struct sr_x86_64_start_info, store_mfn) == 56, "start info store_mfn");
static_assert(offsetof(struct sr_x86_64_start_info, store_evtchn) == 64, "start info store_evtchn");
static_assert(offsetof(struct sr_x86_64_start_info, console_mfn) == 72, "start info console mfn");
static_assert(offsetof(struct sr_x86_64_start_info, console_evtchn) == 80, "start info console evtchn");

/* Restorer bound on a PV guest's p2m (pfns): 2^26 pages, 256 GiB. */
#define PV_RESTORE_MAX_PFNS (1ULL << 26)

#endif /* SR_STREAM_FORMAT_H */
