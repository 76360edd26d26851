int serve(void)
{
	return 0;
}
