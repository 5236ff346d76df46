// The C surface Eckart uses: CBLAS and LAPACKE from Debian's OpenBLAS and LAPACKE packages.
#include <cblas.h>
#include <lapacke.h>

// OpenBLAS's own thread control. Declared here as well so the shim does not depend on
// which cblas.h the alternatives system selected.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// The kernel family DYNAMIC_ARCH chose for this CPU (or OPENBLAS_CORETYPE forced), e.g. "Haswell".
char* openblas_get_corename(void);
