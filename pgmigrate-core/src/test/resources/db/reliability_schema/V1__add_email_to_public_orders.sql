ALTER TABLE public.orders ADD COLUMN email text;
