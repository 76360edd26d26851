/*
 * src/access/name_list.c — comma-joined lists of policy names (name_list.h).
 */
#include "access/name_list.h"

#include <string.h>

bool cu_name_list_has(const char *list, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!list || n == 0)
		return false;
	while (*list) {
		size_t k = strcspn(list, ",");

		if (k == n && !memcmp(list, name, n))
			return true;
		list += k;
		if (*list == ',')
			list++;
	}
	return false;
}

cu_fieldset cu_name_list_fieldset(const cu_policy *p, const char *list)
{
	char name[CU_POLICY_ID_MAX + 1];
	cu_fieldset set = 0;

	while (list && *list) {
		size_t k = strcspn(list, ",");
		int idx;

		if (k > 0 && k <= CU_POLICY_ID_MAX) {
			memcpy(name, list, k);
			name[k] = '\0';
			idx = cu_policy_field_index(p, name);
			if (idx >= 0)
				set |= (cu_fieldset)1 << idx;
		}
		list += k;
		if (*list == ',')
			list++;
	}
	return set;
}
