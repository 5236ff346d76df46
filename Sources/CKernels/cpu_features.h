// Which path Eckart's float32 kernels take on this CPU. Private to CKernels.
#ifndef ECKART_CPU_FEATURES_H
#define ECKART_CPU_FEATURES_H

/* 1 when the CPU has AVX2 and FMA and ECKART_PORTABLE_KERNELS=1 is not set (SmallGEMM.c); the
   answer is taken once and kept. */
int eckart_float_kernels_use_avx2(void);

#endif
