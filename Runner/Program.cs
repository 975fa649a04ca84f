// STUB — owned by the runner author.
return 0;
